// SPDX-License-Identifier: Apache-2.0
// watch: etcdctl's lines (or JSON) for each batch of events, until SIGINT or SIGTERM.
#include <csignal>
#include <iostream>
#include <mutex>

#include "commands.hpp"
#include "output.hpp"

namespace etcdpp::cli {

int run_watch(Context& ctx, const WatchArgs& a) {
  // Before the client starts its threads, which inherit the mask: SIGINT and SIGTERM then reach
  // only this thread, which waits for them. Other verbs leave them alone, so that Ctrl-C ends a
  // call that hangs.
  block_stop_signals();
  if (ctx.format() == Format::table) throw unsupported_format(Format::table);
  if (a.args.empty() || a.args.size() > 2)
    throw ExitError{exit_bad_args, "bad number of arguments"};
  if (a.prefix && a.args.size() == 2) {
    throw ExitError{exit_bad_args, "`range_end` and `--prefix` are mutually exclusive"};
  }
  WatchOptions options;
  options.prefix = a.prefix;
  if (a.args.size() == 2) options.range_end = a.args[1];
  options.start_revision = a.rev;
  options.prev_kv = a.prev_kv;

  // etcdctl says it on stderr, then ends with its error.
  const auto canceled = [](const std::string& why) {
    std::cout << std::flush;
    std::cerr << "watch was canceled (" << why << ")\n" << std::flush;
    return ExitError{exit_interrupted, "watch is canceled by the server"};
  };

  // Declared before the watch, so that they outlive it: its destructor waits for a running
  // callback, and none runs after it.
  std::mutex mutex;
  std::error_code ended;
  const Format format = ctx.format();
  Watch watch;
  try {
    watch = ctx.client().watch(a.args[0], options, [&](std::error_code ec, WatchBatch batch) {
      if (ec) {
        {
          std::lock_guard lock(mutex);
          ended = ec;
        }
        wake_waiter();
        return;
      }
      if (batch.progress_notify()) return;
      if (format == Format::json) {
        print_json(to_json(batch));
      } else {
        print_simple(std::cout, batch, false);
      }
      std::cout << std::flush;
    });
  } catch (const CompactedError& e) {
    throw canceled(e.code().message());
  } catch (const std::system_error& e) {
    throw call_error(e);
  }

  // The callbacks print; this thread only waits, for a signal or the watch's end.
  const int sig = wait_for_signal();
  watch.cancel();
  if (sig == SIGINT || sig == SIGTERM) return exit_success;
  std::lock_guard lock(mutex);
  if (ended) {
    if (ended == make_error_code(Errc::compacted)) throw canceled(ended.message());
    throw ExitError{exit_interrupted, "watch ended: " + ended.message()};
  }
  return exit_success;
}

}  // namespace etcdpp::cli
