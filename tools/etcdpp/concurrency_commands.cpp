// SPDX-License-Identifier: Apache-2.0
// lock and elect: etcdctl's verbs on etcdpp's Mutex and Election, with its output (the key and
// value lines), its errors and its exit codes.
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>

#include <algorithm>
#include <asio/bind_cancellation_slot.hpp>
#include <asio/cancellation_signal.hpp>
#include <asio/post.hpp>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <iostream>
#include <mutex>
#include <optional>

#include "commands.hpp"
#include "etcdpp/concurrency/election.hpp"
#include "etcdpp/concurrency/mutex.hpp"
#include "output.hpp"

extern char** environ;

namespace etcdpp::cli {

namespace {

using concurrency::Election;
using concurrency::Mutex;
using concurrency::Session;

void print_get(Context& ctx, const GetResult& r) {
  if (ctx.format() == Format::json) {
    print_json(to_json(r));
  } else {
    print_simple(std::cout, r, false);
  }
  std::cout << std::flush;
}

/// Runs an asynchronous wait (`start(handler)`, the handler `void(std::exception_ptr, R)`), until
/// it completes or SIGINT or SIGTERM comes; a signal cancels it, as etcdctl's context does.
/// Returns its error; `interrupted` tells whether a signal came.
template <class R, class Start>
std::error_code wait_cancellable(Context& ctx, Start&& start, bool& interrupted) {
  asio::cancellation_signal cancel;
  std::atomic<bool> done{false};
  std::error_code result;
  start(asio::bind_cancellation_slot(cancel.slot(), [&](std::exception_ptr error, R) {
    result = error_code_of(error);
    done = true;
    wake_waiter();
  }));
  interrupted = false;
  while (!done) {
    const int sig = wait_for_signal();
    if ((sig == SIGINT || sig == SIGTERM) && !interrupted) {
      interrupted = true;
      // On the executor that completes the call, where the slot is used.
      asio::post(ctx.client().executor(), [&] { cancel.emit(asio::cancellation_type::terminal); });
    }
  }
  return result;
}

ExitError failure(std::error_code ec, bool interrupted) {
  if (interrupted || ec == Errc::cancelled) return {exit_error, "context canceled"};
  return call_error(std::system_error(ec));
}

/// Runs `argv` with `env` added to this process's environment, its output on ours; returns Go's
/// exec error text when it does not exit 0.
std::optional<std::string> run_command(const std::vector<std::string>& argv,
                                       const std::vector<std::string>& env) {
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  std::vector<char*> envp;
  for (const auto& e : env) envp.push_back(const_cast<char*>(e.c_str()));
  for (char** e = environ; *e != nullptr; ++e) envp.push_back(*e);
  envp.push_back(nullptr);
  // The command gets the signals this process blocked for its own wait.
  posix_spawnattr_t attr;
  ::posix_spawnattr_init(&attr);
  sigset_t none;
  ::sigemptyset(&none);
  ::posix_spawnattr_setsigmask(&attr, &none);
  ::posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK);
  pid_t pid = -1;
  const int err = ::posix_spawnp(&pid, args[0], nullptr, &attr, args.data(), envp.data());
  ::posix_spawnattr_destroy(&attr);
  if (err != 0) {
    return "exec: \"" + argv[0] + "\": " + std::system_category().message(err);
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return std::nullopt;
  if (WIFEXITED(status)) return "exit status " + std::to_string(WEXITSTATUS(status));
  return std::string("signal: ") + ::strsignal(WTERMSIG(status));
}

}  // namespace

int run_lock(Context& ctx, const LockArgs& a) {
  block_stop_signals();
  if (a.args.empty()) {
    throw ExitError{exit_bad_args,
                    "lock takes a lock name argument and an optional command to execute"};
  }
  // etcd raises a TTL below its minimum anyway; etcdpp's Session refuses one.
  const auto ttl = std::chrono::seconds(std::max<std::int64_t>(a.ttl, 2));
  Session session = call([&] {
    return Session(ctx.client(), {.ttl = ttl, .lease = {}, .on_lost = [](auto) { wake_waiter(); },
                                  .executor = {}});
  });
  Mutex mutex(session, a.args[0]);
  bool interrupted = false;
  ResponseHeader header;
  const auto ec = wait_cancellable<ResponseHeader>(
      ctx, [&](auto handler) { mutex.async_lock(std::move(handler)); }, interrupted);
  if (ec || interrupted) {
    mutex.unlock();
    throw failure(ec, interrupted);
  }
  header = mutex.header();

  if (a.args.size() > 1) {
    const std::vector<std::string> command(a.args.begin() + 1, a.args.end());
    const auto failed = run_command(
        command, {"ETCD_LOCK_KEY=" + mutex.key(),
                  "ETCD_LOCK_REV=" + std::to_string(header.revision)});
    mutex.unlock();
    if (failed) throw ExitError{exit_error, *failed};
    return exit_success;
  }

  const GetResult mine = call([&] { return ctx.client().get(mutex.key(), GetOptions{}); });
  if (mine.kvs.empty()) throw ExitError{exit_error, "lock lost on init"};
  print_get(ctx, mine);
  for (;;) {
    const int sig = wait_for_signal();
    if (sig == SIGINT || sig == SIGTERM) {
      mutex.unlock();
      return exit_success;
    }
    if (!session.alive()) throw ExitError{exit_error, "session expired"};
  }
}

int run_elect(Context& ctx, const ElectArgs& a) {
  block_stop_signals();
  if (a.args.size() != 1 && a.args.size() != 2) {
    throw ExitError{exit_bad_args,
                    "elect takes one election name argument and an optional proposal argument"};
  }
  if (a.args.size() == 1 && !a.listen) {
    throw ExitError{exit_bad_args, "no proposal argument but -l not set"};
  }
  if (a.args.size() == 2 && a.listen) {
    throw ExitError{exit_bad_args, "proposal given but -l is set"};
  }
  const std::string& name = a.args[0];

  if (a.listen) {
    // Declared before the observer, which must go first: its callback uses them.
    std::mutex mutex;
    bool lost = false;
    const Format format = ctx.format();
    auto observer = Election::observe(
        ctx.client(), name, [&](std::error_code ec, concurrency::LeaderEvent event) {
          if (ec) {
            {
              std::lock_guard lock(mutex);
              lost = true;
            }
            wake_waiter();
            return;
          }
          if (!event.leader) return;  // etcdctl reports leaders only, never a vacancy
          GetResult r;
          r.header.revision = event.revision;
          r.kvs.push_back(*event.leader);
          r.count = 1;
          if (format == Format::json) {
            print_json(to_json(r));
          } else {
            print_simple(std::cout, r, false);
          }
          std::cout << std::flush;
        });
    for (;;) {
      const int sig = wait_for_signal();
      if (sig == SIGINT || sig == SIGTERM) return exit_success;
      std::lock_guard lock(mutex);
      if (lost) throw ExitError{exit_error, "elect: observer lost"};
    }
  }

  Session session = call([&] {
    return Session(ctx.client(), {.ttl = std::chrono::seconds(60), .lease = {},
                                  .on_lost = [](auto) { wake_waiter(); }, .executor = {}});
  });
  Election election(session, name);
  bool interrupted = false;
  const auto ec = wait_cancellable<ResponseHeader>(
      ctx, [&](auto handler) { election.async_campaign(a.args[1], std::move(handler)); },
      interrupted);
  if (ec || interrupted) {
    if (!ec) election.resign();
    throw failure(ec, interrupted);
  }
  const GetResult mine = call([&] { return ctx.client().get(election.key(), GetOptions{}); });
  print_get(ctx, mine);
  for (;;) {
    const int sig = wait_for_signal();
    if (sig == SIGINT || sig == SIGTERM) {
      call([&] { election.resign(); });
      return exit_success;
    }
    if (!session.alive()) throw ExitError{exit_error, "elect: session expired"};
  }
}

}  // namespace etcdpp::cli
