// SPDX-License-Identifier: Apache-2.0
// The spawner thread (see spawner.hpp). It waits for fork requests and runs them one at a time;
// nothing else ever runs on it.
#include "embedded/spawner.hpp"

#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <string>
#include <system_error>
#include <thread>

#include "etcdpp/error.hpp"

namespace etcdpp::embedded::detail {
namespace {

struct Job {
  void (*child_main)(void*);
  void* arg;
  pid_t pid = -1;
  int error = 0;
  bool done = false;
};

class Spawner {
 public:
  Spawner() : owner_(::getpid()) {
    // The thread starts with every signal blocked: it must never run a handler of the
    // application, and its mask is the one the child starts from (the child clears it).
    sigset_t all;
    sigset_t old;
    ::sigfillset(&all);
    ::pthread_sigmask(SIG_SETMASK, &all, &old);
    try {
      std::thread([this] { run(); }).detach();
    } catch (...) {
      ::pthread_sigmask(SIG_SETMASK, &old, nullptr);
      throw;
    }
    ::pthread_sigmask(SIG_SETMASK, &old, nullptr);
  }

  pid_t owner() const noexcept { return owner_; }

  pid_t fork_child(void (*child_main)(void*), void* arg) {
    Job job{child_main, arg};
    std::unique_lock lock(mutex_);
    queue_.push_back(&job);
    work_.notify_one();
    done_.wait(lock, [&] { return job.done; });
    if (job.pid < 0) {
      throw_error(make_error_code(Errc::node_failed),
                  "cannot fork etcd: " + std::generic_category().message(job.error));
    }
    return job.pid;
  }

 private:
  [[noreturn]] void run() {
    ::pthread_setname_np(::pthread_self(), "etcdpp-spawner");
    std::unique_lock lock(mutex_);
    while (true) {
      work_.wait(lock, [&] { return !queue_.empty(); });
      Job* job = queue_.front();
      queue_.pop_front();
      lock.unlock();
      const pid_t pid = ::fork();
      if (pid == 0) job->child_main(job->arg);  // never returns
      const int error = errno;
      lock.lock();
      job->pid = pid;
      job->error = error;
      job->done = true;
      done_.notify_all();
    }
  }

  const pid_t owner_;
  std::mutex mutex_;
  std::condition_variable work_;
  std::condition_variable done_;
  std::deque<Job*> queue_;
};

}  // namespace

pid_t fork_on_spawner(void (*child_main)(void*), void* arg) {
  // Both are leaked on purpose: the thread never ends, so what it waits on must never be
  // destroyed, not even by static destructors at exit (a Node in static storage still stops
  // its etcd then).
  static auto* const mutex = new std::mutex;
  static Spawner* spawner = nullptr;
  Spawner* current;
  {
    std::lock_guard lock(*mutex);
    // After the application forks, the child process has no spawner thread: start another.
    if (spawner == nullptr || spawner->owner() != ::getpid()) spawner = new Spawner;
    current = spawner;
  }
  return current->fork_child(child_main, arg);
}

}  // namespace etcdpp::embedded::detail
