// SPDX-License-Identifier: Apache-2.0
// etcdpp-bench: a load generator for etcd v3 on etcdpp's public API, with the command line and
// the one-line JSON output of the peer load generators (the "full contract" BENCHMARKS.md
// describes), so that the peer harness's run-all measures it side by side with the Go client.
//
// Three ways to keep --clients requests in flight, one per face of the library:
//   blocking   N threads, each making blocking calls;
//   async      N chains of callbacks on one io_context run by the main thread (no thread per
//              request: a completion handler records the latency and starts the next call);
//   coroutine  N C++20 coroutines on that same io_context.
// --conns M makes M Client objects (M TCP connections); request lane i uses client i mod M.
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/io_context.hpp>
#include <asio/use_awaitable.hpp>
#include <atomic>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <etcdpp/etcdpp.hpp>
#include <fstream>
#include <iostream>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#ifndef ETCDPP_BENCH_VERSION
#define ETCDPP_BENCH_VERSION "unknown"
#endif
#ifndef ETCDPP_BENCH_GRPC_VERSION
#define ETCDPP_BENCH_GRPC_VERSION "unknown"
#endif

namespace {

using Clock = std::chrono::steady_clock;

enum class OpKind { put, range, range_serializable, txn_put, watch };
enum class Mode { blocking, async, coroutine };

struct Flags {
  std::vector<std::string> endpoints{"127.0.0.1:2379"};
  OpKind op = OpKind::put;
  std::string op_name = "put";
  Mode mode = Mode::async;
  std::string mode_name = "async";
  long clients = 1;
  long conns = 1;
  long total = 10000;
  long key_size = 8;
  long val_size = 256;
  long key_space = 10000;
  std::string key_prefix;
  bool stamp = false;
  std::string writer;
  double max_seconds = 120;
};

constexpr const char* kUsage = R"(usage: etcdpp-bench [--flag value ...]

  --endpoints A,B       etcd gRPC endpoints (host:port, http:// optional)  [127.0.0.1:2379]
  --op OP               put | range | range-serializable | txn-put | watch  [put]
  --mode MODE           blocking | async | coroutine                        [async]
  --clients N           requests in flight                                  [1]
  --conns M             connections (Client objects); lane i uses i mod M   [1]
  --total T             requests                                            [10000]
  --key-size N          digits of the zero-padded random key number         [8]
  --val-size N          value bytes                                         [256]
  --key-space N         keys are uniform in [0, N)                          [10000]
  --key-prefix P        string in front of every key                        []
  --stamp               put: the value starts with the send time (ns since the epoch, 19 digits)
  --writer CMD          watch: the command that starts the writer
  --max-seconds S       time limit of the load phase                        [120]

Prints one JSON line (its fields: BENCHMARKS.md). Exit status: 0 when every request
succeeded, 1 otherwise, 2 for bad flags.
)";

[[noreturn]] void bad_flags(const std::string& message) {
  std::cerr << "etcdpp-bench: " << message << "\n(etcdpp-bench --help lists the flags)\n";
  std::exit(2);
}

long parse_positive(const std::string& flag, const std::string& text) {
  long v = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size() || v < 1) {
    bad_flags(flag + " wants a positive integer, got '" + text + "'");
  }
  return v;
}

std::vector<std::string> split(const std::string& text, char sep) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start <= text.size()) {
    const auto end = std::min(text.find(sep, start), text.size());
    if (end > start) out.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

Flags parse_flags(int argc, char** argv) {
  Flags f;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "-h" || arg == "--help") {
      std::cout << kUsage;
      std::exit(0);
    }
    if (arg.rfind("--", 0) != 0) bad_flags("unexpected argument '" + arg + "'");
    std::optional<std::string> inline_value;
    if (const auto eq = arg.find('='); eq != std::string::npos) {
      inline_value = arg.substr(eq + 1);
      arg.resize(eq);
    }
    if (arg == "--stamp") {
      const std::string v = inline_value.value_or("true");
      if (v != "true" && v != "false" && v != "1" && v != "0") {
        bad_flags("--stamp takes no value (or =true / =false), got '" + v + "'");
      }
      f.stamp = v == "true" || v == "1";
      continue;
    }
    std::string value;
    if (inline_value) {
      value = *inline_value;
    } else if (i + 1 < argc) {
      value = argv[++i];
    } else {
      bad_flags(arg + " needs a value");
    }
    if (arg == "--endpoints") {
      f.endpoints = split(value, ',');
      if (f.endpoints.empty()) bad_flags("--endpoints is empty");
    } else if (arg == "--op") {
      f.op_name = value;
      if (value == "put") {
        f.op = OpKind::put;
      } else if (value == "range") {
        f.op = OpKind::range;
      } else if (value == "range-serializable") {
        f.op = OpKind::range_serializable;
      } else if (value == "txn-put") {
        f.op = OpKind::txn_put;
      } else if (value == "watch") {
        f.op = OpKind::watch;
      } else {
        bad_flags("--op: unknown op '" + value +
                  "' (put, range, range-serializable, txn-put, watch)");
      }
    } else if (arg == "--mode") {
      f.mode_name = value;
      if (value == "blocking") {
        f.mode = Mode::blocking;
      } else if (value == "async") {
        f.mode = Mode::async;
      } else if (value == "coroutine") {
        f.mode = Mode::coroutine;
      } else {
        bad_flags("--mode: unknown mode '" + value + "' (blocking, async, coroutine)");
      }
    } else if (arg == "--clients") {
      f.clients = parse_positive(arg, value);
    } else if (arg == "--conns") {
      f.conns = parse_positive(arg, value);
    } else if (arg == "--total") {
      f.total = parse_positive(arg, value);
    } else if (arg == "--key-size") {
      f.key_size = parse_positive(arg, value);
    } else if (arg == "--val-size") {
      f.val_size = parse_positive(arg, value);
    } else if (arg == "--key-space") {
      f.key_space = parse_positive(arg, value);
    } else if (arg == "--key-prefix") {
      f.key_prefix = value;
    } else if (arg == "--writer") {
      f.writer = value;
    } else if (arg == "--max-seconds") {
      char* end = nullptr;
      f.max_seconds = std::strtod(value.c_str(), &end);
      if (value.empty() || *end != '\0' || !(f.max_seconds > 0) || f.max_seconds > 86400) {
        bad_flags("--max-seconds wants a positive number of seconds, got '" + value + "'");
      }
    } else {
      bad_flags("unknown flag " + arg);
    }
  }
  if (static_cast<long>(std::to_string(f.key_space - 1).size()) > f.key_size) {
    bad_flags("--key-size " + std::to_string(f.key_size) + " is too small for --key-space " +
              std::to_string(f.key_space));
  }
  if (f.stamp && f.val_size < 19) bad_flags("--stamp needs --val-size >= 19");
  return f;
}

double cpu_seconds() {
  rusage ru{};
  ::getrusage(RUSAGE_SELF, &ru);
  return static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
         static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

int thread_count() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("Threads:", 0) == 0) return std::atoi(line.c_str() + 8);
  }
  return -1;
}

/// Keys and values as the contract says: prefix + zero-padded uniform number; one fixed value,
/// whose first 19 bytes are the send time when stamping.
class Workload {
 public:
  explicit Workload(const Flags& f) : flags_(f), value_(make_value(f.val_size)) {}

  std::string key(std::minstd_rand& rng) const {
    std::uniform_int_distribution<long> pick(0, flags_.key_space - 1);
    char digits[24];
    const auto end = std::to_chars(digits, digits + sizeof digits, pick(rng)).ptr;
    const auto n = static_cast<std::size_t>(end - digits);
    std::string key;
    key.reserve(flags_.key_prefix.size() + std::max<std::size_t>(n, flags_.key_size));
    key += flags_.key_prefix;
    if (static_cast<std::size_t>(flags_.key_size) > n) key.append(flags_.key_size - n, '0');
    key.append(digits, n);
    return key;
  }

  /// The value to send now; `scratch` holds a stamped copy when stamping.
  std::string_view value(std::string& scratch) const {
    if (!flags_.stamp) return value_;
    scratch = value_;
    const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                        std::chrono::system_clock::now().time_since_epoch())
                        .count();
    char digits[24];
    const auto end = std::to_chars(digits, digits + sizeof digits, ns).ptr;
    const auto n = static_cast<std::size_t>(end - digits);
    std::fill(scratch.begin(), scratch.begin() + static_cast<long>(19 - n), '0');
    std::copy(digits, end, scratch.begin() + static_cast<long>(19 - n));
    return scratch;
  }

 private:
  static std::string make_value(long n) {
    static constexpr std::string_view letters =
        "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    std::minstd_rand rng(42);
    std::string v(static_cast<std::size_t>(n), 'x');
    for (auto& c : v) c = letters[rng() % letters.size()];
    return v;
  }

  const Flags& flags_;
  std::string value_;
};

/// What one measuring thread saw.
struct Tally {
  std::vector<double> latencies_ms;
  long errors = 0;
  std::string first_error;

  void record(Clock::time_point start, const std::error_code& ec, const char* what = nullptr) {
    if (ec) {
      if (errors++ == 0) first_error = what ? what : ec.message();
      return;
    }
    latencies_ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - start).count());
  }
};

const etcdpp::GetOptions kSerializable = [] {
  etcdpp::GetOptions o;
  o.serializable = true;
  return o;
}();

/// One request on the blocking face; throws etcdpp::Error.
void call_blocking(const etcdpp::Client& client, OpKind op, const std::string& key,
                   std::string_view value) {
  switch (op) {
    case OpKind::put:
      client.put(key, value);
      break;
    case OpKind::range:
      (void)client.get(key);
      break;
    case OpKind::range_serializable:
      (void)client.get(key, kSerializable);
      break;
    case OpKind::txn_put:
      // As etcd's benchmark txn-put: no compare, one put.
      (void)client.txn(etcdpp::Txn{}.then(etcdpp::Op::put(key, value)));
      break;
    case OpKind::watch:
      break;
  }
}

/// The load phase's shared state. In async and coroutine modes only the io_context's one
/// thread touches it; in blocking mode `next` is the only shared field.
struct Run {
  const Flags& flags;
  const Workload& workload;
  std::vector<etcdpp::Client>& clients;
  Clock::time_point deadline;
  std::atomic<long> next{0};

  /// Claims the next request; false when the total is reached or time is up.
  bool claim() {
    if (next.load(std::memory_order_relaxed) >= flags.total || Clock::now() >= deadline) {
      return false;
    }
    return next.fetch_add(1, std::memory_order_relaxed) < flags.total;
  }
  const etcdpp::Client& client_of(long lane) const {
    return clients[static_cast<std::size_t>(lane % static_cast<long>(clients.size()))];
  }
};

std::minstd_rand lane_rng(long lane) {
  const auto seed = static_cast<std::uint64_t>(Clock::now().time_since_epoch().count()) ^
                    (static_cast<std::uint64_t>(lane) * 7919u);
  return std::minstd_rand(static_cast<std::minstd_rand::result_type>(seed % 2147483646u + 1));
}

void run_blocking(Run& run, std::vector<Tally>& tallies) {
  std::vector<std::thread> threads;
  tallies.resize(static_cast<std::size_t>(run.flags.clients));
  for (long lane = 0; lane < run.flags.clients; ++lane) {
    threads.emplace_back([&run, &tally = tallies[static_cast<std::size_t>(lane)], lane] {
      auto rng = lane_rng(lane);
      const auto& client = run.client_of(lane);
      tally.latencies_ms.reserve(static_cast<std::size_t>(run.flags.total / run.flags.clients + 1));
      std::string scratch;
      while (run.claim()) {
        const std::string key = run.workload.key(rng);
        const auto value = run.workload.value(scratch);
        const auto start = Clock::now();
        try {
          call_blocking(client, run.flags.op, key, value);
          tally.record(start, {});
        } catch (const std::system_error& e) {
          tally.record(start, e.code(), e.what());
        }
      }
    });
  }
  for (auto& t : threads) t.join();
}

/// A chain of asynchronous calls: each completion records its latency and starts the next call.
class AsyncLane {
 public:
  AsyncLane(Run& run, Tally& tally, long lane)
      : run_(run), tally_(tally), client_(run.client_of(lane)), rng_(lane_rng(lane)) {}

  void start_next() {
    if (!run_.claim()) return;
    const std::string key = run_.workload.key(rng_);
    const auto value = run_.workload.value(scratch_);
    const auto start = Clock::now();
    auto done = [this, start](std::exception_ptr error, auto&&) {
      tally_.record(start, etcdpp::error_code_of(error));
      start_next();
    };
    switch (run_.flags.op) {
      case OpKind::put:
        client_.async_put(key, value, std::move(done));
        break;
      case OpKind::range:
        client_.async_get(key, std::move(done));
        break;
      case OpKind::range_serializable:
        client_.async_get(key, kSerializable, std::move(done));
        break;
      case OpKind::txn_put:
        client_.async_txn(etcdpp::Txn{}.then(etcdpp::Op::put(key, value)), std::move(done));
        break;
      case OpKind::watch:
        break;
    }
  }

 private:
  Run& run_;
  Tally& tally_;
  const etcdpp::Client& client_;
  std::minstd_rand rng_;
  std::string scratch_;
};

void run_async(Run& run, asio::io_context& io, Tally& tally) {
  tally.latencies_ms.reserve(static_cast<std::size_t>(run.flags.total));
  std::vector<std::unique_ptr<AsyncLane>> lanes;
  for (long lane = 0; lane < run.flags.clients; ++lane) {
    lanes.push_back(std::make_unique<AsyncLane>(run, tally, lane));
  }
  // Started from the io_context's thread, like every later call.
  asio::post(io, [&] {
    for (auto& lane : lanes) lane->start_next();
  });
  io.run();
}

asio::awaitable<void> coroutine_lane(Run& run, Tally& tally, long lane) {
  constexpr auto token = asio::experimental::as_tuple(asio::use_awaitable);
  auto rng = lane_rng(lane);
  const auto& client = run.client_of(lane);
  std::string scratch;
  while (run.claim()) {
    // Named, not temporaries in the co_await expression (README: known GCC 12 issue).
    const std::string key = run.workload.key(rng);
    const auto value = run.workload.value(scratch);
    const auto start = Clock::now();
    std::exception_ptr error;
    switch (run.flags.op) {
      case OpKind::put:
        std::tie(error, std::ignore) = co_await client.async_put(key, value, token);
        break;
      case OpKind::range:
        std::tie(error, std::ignore) = co_await client.async_get(key, token);
        break;
      case OpKind::range_serializable:
        std::tie(error, std::ignore) = co_await client.async_get(key, kSerializable, token);
        break;
      case OpKind::txn_put: {
        const etcdpp::Txn txn = etcdpp::Txn{}.then(etcdpp::Op::put(key, value));
        std::tie(error, std::ignore) = co_await client.async_txn(txn, token);
        break;
      }
      case OpKind::watch:
        break;
    }
    tally.record(start, etcdpp::error_code_of(error));
  }
}

void run_coroutines(Run& run, asio::io_context& io, Tally& tally) {
  tally.latencies_ms.reserve(static_cast<std::size_t>(run.flags.total));
  for (long lane = 0; lane < run.flags.clients; ++lane) {
    asio::co_spawn(io, coroutine_lane(run, tally, lane), asio::detached);
  }
  io.run();
}

/// Nearest rank on sorted data, as every peer computes it.
double percentile(const std::vector<double>& sorted, double q) {
  if (sorted.empty()) return 0;
  auto i = static_cast<long>(std::ceil(q * static_cast<double>(sorted.size()))) - 1;
  i = std::clamp(i, 0L, static_cast<long>(sorted.size()) - 1);
  return sorted[static_cast<std::size_t>(i)];
}

std::string json_string(std::string_view s) {
  std::string out = "\"";
  for (const char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(c));
          out += buf;
        } else {
          out += c;
        }
    }
  }
  return out + "\"";
}

std::string fixed(double x, int digits) {
  if (!std::isfinite(x)) return "0";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", digits, x);
  return buf;
}

// The process ends by itself whatever happens, as the other peers do: a hung load phase is cut
// at --max-seconds + 30 s. alarm() needs no thread, so the thread count stays the library's.
void on_alarm(int) {
  static constexpr char kMessage[] = "etcdpp-bench: hard time limit reached, exiting\n";
  (void)!::write(STDERR_FILENO, kMessage, sizeof kMessage - 1);
  ::_exit(3);
}

std::int64_t wall_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

/// The watch op of the contract: watch --key-prefix from the current revision + 1, start the
/// writer once the watch exists, and consume events until --total have arrived. Latency is the
/// writer's stamp (the first 19 bytes of the value) to the receipt here.
int run_watch(const Flags& flags, const char* self) {
  std::string prefix = flags.key_prefix;
  if (prefix.empty()) {
    prefix = "etcdpp-bench-watch/" + std::to_string(::getpid()) + "-" +
             std::to_string(wall_ns()) + "/";
  }
  const auto call_timeout =
      std::chrono::milliseconds(static_cast<long>(std::ceil(flags.max_seconds * 1000)));
  asio::io_context io(1);  // callbacks run here, on the main thread
  std::optional<etcdpp::Client> client;
  std::int64_t start_revision = 0;
  try {
    client.emplace(etcdpp::ClientOptions{.endpoints = flags.endpoints,
                                         .call_timeout = call_timeout,
                                         .executor = io.get_executor()});
    start_revision = client->get("__bench_warmup", {}).header.revision + 1;
  } catch (const std::exception& e) {
    std::cerr << "etcdpp-bench: cannot start: " << e.what() << "\n";
    return 1;
  }

  std::vector<double> latencies_ms;
  latencies_ms.reserve(static_cast<std::size_t>(flags.total));
  long events = 0, rev_gaps = 0;
  bool in_order = true;
  std::int64_t last_revision = 0;
  Clock::time_point first_at{}, last_at{};
  std::optional<std::error_code> ended;
  const auto deadline =
      Clock::now() + std::chrono::duration_cast<Clock::duration>(
                         std::chrono::duration<double>(flags.max_seconds));

  etcdpp::Watch watch;
  etcdpp::WatchOptions options;
  options.prefix = true;
  options.start_revision = start_revision;
  // The whole run may queue: the bound is for consumers slower than this one.
  options.max_pending_events = static_cast<std::size_t>(flags.total) + 1;
  try {
    watch = client->watch(prefix, options,
                          [&](std::error_code ec, etcdpp::WatchBatch batch) {
                            if (ec) {
                              ended = ec;
                              return;
                            }
                            const auto now_ns = wall_ns();
                            const auto now = Clock::now();
                            for (const auto& e : batch.events) {
                              if (events == 0) first_at = now;
                              last_at = now;
                              ++events;
                              const auto rev = e.kv.mod_revision;
                              if (last_revision != 0) {
                                if (rev <= last_revision) in_order = false;
                                if (rev != last_revision + 1) ++rev_gaps;
                              }
                              last_revision = rev;
                              std::int64_t sent = 0;
                              const auto& v = e.kv.value;
                              if (v.size() >= 19 &&
                                  std::from_chars(v.data(), v.data() + 19, sent).ec == std::errc()) {
                                latencies_ms.push_back(static_cast<double>(now_ns - sent) / 1e6);
                              }
                            }
                          });
  } catch (const std::exception& e) {
    std::cerr << "etcdpp-bench: watch: " << e.what() << "\n";
    return 1;
  }

  // The writer: the same contract's put op, with stamps, in a second process.
  const std::string writer_cmd = flags.writer.empty() ? std::string(self) : flags.writer;
  std::string endpoints;
  for (const auto& e : flags.endpoints) endpoints += (endpoints.empty() ? "" : ",") + e;
  std::vector<std::string> args = {"sh", "-c", "exec " + writer_cmd + " \"$@\"", "sh",
                                   "--endpoints", endpoints, "--op", "put",
                                   "--clients", std::to_string(flags.clients),
                                   "--conns", std::to_string(flags.conns),
                                   "--total", std::to_string(flags.total),
                                   "--key-size", std::to_string(flags.key_size),
                                   "--val-size", std::to_string(std::max<long>(flags.val_size, 19)),
                                   "--key-space", std::to_string(flags.key_space),
                                   "--key-prefix", prefix, "--stamp",
                                   "--max-seconds", fixed(flags.max_seconds, 3)};
  // The writer's JSON line comes back through a pipe: run-all reports its client and rate.
  int report[2];
  if (::pipe(report) != 0) {
    std::cerr << "etcdpp-bench: pipe: " << std::strerror(errno) << "\n";
    return 1;
  }
  const double cpu0 = cpu_seconds();
  const pid_t writer = ::fork();
  if (writer == 0) {
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    ::dup2(report[1], STDOUT_FILENO);
    ::close(report[0]);
    ::close(report[1]);
    ::execvp("sh", argv.data());
    ::_exit(127);
  }
  ::close(report[1]);
  // Consume until every event has arrived, the watch ended, or time is up.
  while (events < flags.total && !ended && Clock::now() < deadline) {
    io.run_for(std::chrono::milliseconds(50));
  }
  const double cpu = cpu_seconds() - cpu0;
  std::string writer_line;
  char buf[4096];
  for (ssize_t n; (n = ::read(report[0], buf, sizeof buf)) > 0;) {
    writer_line.append(buf, static_cast<std::size_t>(n));
  }
  ::close(report[0]);
  int status = 0;
  ::waitpid(writer, &status, 0);
  const auto writer_field = [&](const std::string& name) -> std::string {
    const auto at = writer_line.find("\"" + name + "\":");
    if (at == std::string::npos) return {};
    auto begin = at + name.size() + 3;
    auto end = writer_line.find_first_of(",}", begin);
    std::string v = writer_line.substr(begin, end - begin);
    if (v.size() >= 2 && v.front() == '"') v = v.substr(1, v.size() - 2);
    return v;
  };
  const std::string writer_client = writer_field("client");
  const std::string writer_rate = writer_field("ops_per_s");
  watch.cancel();
  io.poll();

  std::sort(latencies_ms.begin(), latencies_ms.end());
  const double seconds = std::chrono::duration<double>(last_at - first_at).count();
  const bool ok = events == flags.total && in_order && rev_gaps == 0 && !ended;
  std::ostringstream out;
  out << "{\"client\":\"etcdpp\",\"op\":\"watch\",\"clients\":" << flags.clients
      << ",\"conns\":" << flags.conns << ",\"total\":" << flags.total
      << ",\"seconds\":" << fixed(seconds, 4)
      << ",\"ops_per_s\":" << fixed(seconds > 0 ? (events - 1) / seconds : 0, 1)
      << ",\"p50_ms\":" << fixed(percentile(latencies_ms, 0.50), 3)
      << ",\"p99_ms\":" << fixed(percentile(latencies_ms, 0.99), 3)
      << ",\"cpu_s\":" << fixed(cpu, 3) << ",\"events\":" << events
      << ",\"in_order\":" << (in_order ? "true" : "false") << ",\"rev_gaps\":" << rev_gaps
      << ",\"ok\":" << (ok ? "true" : "false")
      << ",\"writer_exit\":" << (WIFEXITED(status) ? WEXITSTATUS(status) : -1)
      << ",\"threads\":" << thread_count() << ",\"cpu_total_s\":" << fixed(cpu_seconds(), 3)
      << ",\"writer_client\":" << json_string(writer_client)
      << ",\"writer_ops_per_s\":" << (writer_rate.empty() ? "0" : writer_rate)
      << ",\"key_prefix\":" << json_string(prefix)
      << ",\"client_version\":" << json_string("etcdpp " ETCDPP_BENCH_VERSION) << "}\n";
  std::cout << out.str() << std::flush;
  return ok ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  const Flags flags = parse_flags(argc, argv);
  ::signal(SIGALRM, on_alarm);
  ::alarm(static_cast<unsigned>(std::ceil(flags.max_seconds)) + 30);
  if (flags.op == OpKind::watch) return run_watch(flags, argv[0]);

  // The completions of async calls run on this io_context, on the main thread (async and
  // coroutine modes); giving it to the clients also spares each Client its own thread.
  asio::io_context io(1);
  const auto call_timeout =
      std::chrono::milliseconds(static_cast<long>(std::ceil(flags.max_seconds * 1000)));
  std::vector<etcdpp::Client> clients;
  try {
    for (long i = 0; i < flags.conns; ++i) {
      clients.emplace_back(etcdpp::ClientOptions{.endpoints = flags.endpoints,
                                                 .call_timeout = call_timeout,
                                                 .executor = io.get_executor()});
    }
    // One request per connection before measuring: connects, and warms up the path.
    for (const auto& client : clients) (void)client.get("__bench_warmup");
  } catch (const std::exception& e) {
    std::cerr << "etcdpp-bench: cannot start: " << e.what() << "\n";
    return 1;
  }

  const Workload workload(flags);
  std::vector<Tally> tallies(1);
  const double cpu0 = cpu_seconds();
  const auto t0 = Clock::now();
  Run run{flags, workload, clients,
          t0 + std::chrono::duration_cast<Clock::duration>(
                   std::chrono::duration<double>(flags.max_seconds))};
  switch (flags.mode) {
    case Mode::blocking:
      run_blocking(run, tallies);
      break;
    case Mode::async:
      run_async(run, io, tallies[0]);
      break;
    case Mode::coroutine:
      run_coroutines(run, io, tallies[0]);
      break;
  }
  const double elapsed = std::chrono::duration<double>(Clock::now() - t0).count();
  const double cpu = cpu_seconds() - cpu0;
  const int threads = thread_count();
  const bool timed_out = Clock::now() >= run.deadline;

  std::vector<double> all;
  long errors = 0;
  std::string first_error;
  for (auto& t : tallies) {
    all.insert(all.end(), t.latencies_ms.begin(), t.latencies_ms.end());
    if (t.errors > 0 && first_error.empty()) first_error = t.first_error;
    errors += t.errors;
  }
  std::sort(all.begin(), all.end());
  const auto completed = static_cast<long>(all.size());

  std::ostringstream out;
  out << "{\"client\":\"etcdpp\",\"op\":" << json_string(flags.op_name)
      << ",\"clients\":" << flags.clients << ",\"conns\":" << flags.conns
      << ",\"total\":" << flags.total << ",\"seconds\":" << fixed(elapsed, 4)
      << ",\"ops_per_s\":" << fixed(elapsed > 0 ? completed / elapsed : 0, 1)
      << ",\"p50_ms\":" << fixed(percentile(all, 0.50), 3)
      << ",\"p99_ms\":" << fixed(percentile(all, 0.99), 3) << ",\"cpu_s\":" << fixed(cpu, 3)
      << ",\"client_version\":"
      << json_string("etcdpp " ETCDPP_BENCH_VERSION " (grpc++ " ETCDPP_BENCH_GRPC_VERSION ")")
      << ",\"completed\":" << completed << ",\"cpu_total_s\":" << fixed(cpu_seconds(), 3)
      << ",\"errors\":" << errors << ",\"key_prefix\":" << json_string(flags.key_prefix)
      << ",\"key_size\":" << flags.key_size << ",\"key_space\":" << flags.key_space
      << ",\"mode\":" << json_string(flags.mode_name) << ",\"threads\":" << threads
      << ",\"timed_out\":" << (timed_out ? "true" : "false") << ",\"val_size\":" << flags.val_size;
  if (!first_error.empty()) out << ",\"first_error\":" << json_string(first_error);
  out << "}\n";
  std::cout << out.str() << std::flush;
  return errors == 0 && completed == flags.total ? 0 : 1;
}
