// SPDX-License-Identifier: Apache-2.0
// The STM engine: one coroutine per run_stm. An attempt resets the read and write sets, runs the
// transaction function until it completes without needing a key it has not read (each miss
// interrupts it, the missing keys are fetched in one round trip, and it runs again), then
// commits in one Txn whose compares are what the isolation level checks.
#include "etcdpp/concurrency/stm.hpp"

#include <algorithm>
#include <limits>
#include <random>

#include <asio/experimental/as_tuple.hpp>
#include <asio/steady_timer.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>

#include "concurrency/coroutine_calls.hpp"

namespace etcdpp::concurrency {
namespace detail {
namespace {

constexpr auto as_tuple_awaitable = asio::experimental::as_tuple(asio::use_awaitable);

/// Interrupts the transaction function when it reads a key not read yet in this attempt.
struct NeedsFetch {};

bool pinned_level(Isolation isolation) {
  return isolation == Isolation::serializable_snapshot || isolation == Isolation::serializable;
}

}  // namespace

class StmState {
 public:
  struct Read {
    ResponseHeader header;
    std::optional<KeyValue> kv;
  };
  struct Write {
    std::optional<std::string> value;  // std::nullopt: a delete
    PutOptions options;
  };

  explicit StmState(Isolation isolation) : isolation_(isolation) {}

  Isolation isolation() const noexcept { return isolation_; }

  // --- What the transaction function calls (through Stm) ---

  std::optional<std::string> get(std::string_view key) {
    if (auto w = writes_.find(std::string(key)); w != writes_.end()) return w->second.value;
    const Read& read = read_or_miss(key);
    if (!read.kv) return std::nullopt;
    return read.kv->value;
  }
  void fetch(const std::vector<std::string>& keys) {
    for (const auto& key : keys) {
      if (!writes_.contains(key) && !lookup(key)) missing_.push_back(key);
    }
    if (!missing_.empty()) interrupt();
  }
  std::int64_t rev(std::string_view key) {
    const Read& read = read_or_miss(key);
    return read.kv ? read.kv->mod_revision : 0;
  }
  void put(std::string_view key, std::string_view value, PutOptions options) {
    writes_[std::string(key)] = Write{std::string(value), options};
  }
  void delete_key(std::string_view key) { writes_[std::string(key)] = Write{std::nullopt, {}}; }

  // --- What the engine calls ---

  /// A new attempt: nothing read or written. Keys re-read by a failed commit stay prefetched.
  void begin_attempt() {
    reads_.clear();
    writes_.clear();
  }
  /// After a read error: start afresh, with linearizable reads.
  void forget_pin() {
    pin_.reset();
    prefetched_.clear();
  }
  /// Runs the function once; true when it completed, false when it needs `missing()` first.
  /// What it throws (but the interruption) propagates.
  bool run(const StmFunction& apply) {
    writes_.clear();
    missing_.clear();
    interrupted_ = false;
    Stm stm(*this);
    try {
      apply(stm);
    } catch (const NeedsFetch&) {
      return false;
    }
    // A function that swallowed the interruption has not seen the keys it asked for.
    return !interrupted_;
  }
  const std::vector<std::string>& missing() const noexcept { return missing_; }

  /// Keys of `keys` not read yet in this attempt (prefetched ones are taken first).
  std::vector<std::string> unread(const std::vector<std::string>& keys) {
    std::vector<std::string> out;
    for (const auto& key : keys) {
      if (!lookup(key) && std::find(out.begin(), out.end(), key) == out.end()) out.push_back(key);
    }
    return out;
  }

  /// The options of a read: pinned to the snapshot revision for the serializable levels once
  /// it is known, else from the member's local state for the others.
  GetOptions read_options() const {
    GetOptions options;
    if (pinned_level(isolation_)) {
      if (pin_) {
        options.revision = *pin_;
        options.serializable = true;
      }
    } else {
      options.serializable = true;
    }
    return options;
  }
  void record(const std::vector<std::string>& keys, const TxnResult& result) {
    for (std::size_t i = 0; i < keys.size(); ++i) {
      const auto& got = result.responses.at(i).get();
      reads_[keys[i]] =
          Read{result.header, got.kvs.empty() ? std::nullopt : std::optional(got.kvs.front())};
    }
    // The first read of the serializable levels fixes the snapshot revision.
    if (pinned_level(isolation_) && !pin_) pin_ = result.header.revision;
  }

  /// The commit: the compares of the isolation level, the writes, and (serializable levels)
  /// an Else that re-reads every key read, so that the next attempt starts without a round
  /// trip.
  Txn commit_txn(std::vector<std::string>& reread) const {
    Txn txn;
    if (isolation_ != Isolation::read_committed) {
      for (const auto& [key, read] : reads_) {
        txn.if_(Compare::mod_revision(key) == (read.kv ? read.kv->mod_revision : 0));
      }
    }
    if (isolation_ == Isolation::serializable_snapshot) {
      // A key written must not have changed since the snapshot, read or not.
      std::int64_t first = std::numeric_limits<std::int64_t>::max() - 1;
      for (const auto& [key, read] : reads_) first = std::min(first, read.header.revision);
      for (const auto& [key, write] : writes_) txn.if_(Compare::mod_revision(key) < first + 1);
    }
    for (const auto& [key, write] : writes_) {
      if (write.value) {
        txn.then(Op::put(key, *write.value, write.options));
      } else {
        txn.then(Op::delete_range(key));
      }
    }
    if (pinned_level(isolation_)) {
      for (const auto& [key, read] : reads_) {
        txn.else_(Op::get(key));
        reread.push_back(key);
      }
    }
    return txn;
  }
  /// After a failed commit: what its Else read becomes the next attempt's snapshot.
  void prefetch_from(const std::vector<std::string>& keys, const TxnResult& result) {
    if (!pinned_level(isolation_)) return;
    prefetched_.clear();
    for (std::size_t i = 0; i < keys.size(); ++i) {
      const auto& got = result.responses.at(i).get();
      prefetched_[keys[i]] =
          Read{result.header, got.kvs.empty() ? std::nullopt : std::optional(got.kvs.front())};
    }
    pin_ = result.header.revision;
  }
  std::string some_key() const {
    if (!writes_.empty()) return writes_.begin()->first;
    if (!reads_.empty()) return reads_.begin()->first;
    return {};
  }

 private:
  const Read* lookup(std::string_view key) {
    const std::string k(key);
    if (auto r = reads_.find(k); r != reads_.end()) return &r->second;
    if (auto p = prefetched_.find(k); p != prefetched_.end()) {
      auto& read = reads_[k] = std::move(p->second);
      prefetched_.erase(p);
      return &read;
    }
    return nullptr;
  }
  const Read& read_or_miss(std::string_view key) {
    if (const Read* read = lookup(key)) return *read;
    missing_.emplace_back(key);
    interrupt();
  }
  [[noreturn]] void interrupt() {
    interrupted_ = true;
    throw NeedsFetch{};
  }

  Isolation isolation_;
  std::map<std::string, Read> reads_;
  std::map<std::string, Read> prefetched_;
  std::map<std::string, Write> writes_;
  std::vector<std::string> missing_;
  std::optional<std::int64_t> pin_;
  bool interrupted_ = false;
};

namespace {

/// Reads `keys` in one Txn at the state's read options. A pinned read that a lagging member
/// cannot serve yet (future revision) is made again as a linearizable read at that revision,
/// which any member answers once it has caught up with the leader.
asio::awaitable<void> fetch(const Client& client, StmState& state, std::vector<std::string> keys) {
  keys = state.unread(keys);
  if (keys.empty()) co_return;
  GetOptions options = state.read_options();
  for (;;) {
    Txn txn;
    for (const auto& key : keys) txn.then(Op::get(key, options));
    auto [error, result] = co_await client.async_txn(txn, as_tuple_awaitable);
    const std::error_code ec = error_code_of(error);
    if (ec == Errc::future_revision && options.serializable && options.revision != 0) {
      options.serializable = false;
      continue;
    }
    if (error) std::rethrow_exception(error);  // the Client's own Error, with its words
    state.record(keys, result);
    co_return;
  }
}

/// Whether a failed read may be retried in a new attempt: nothing was written yet.
bool retry_read(std::error_code ec) {
  return is_transient(ec) || ec == Errc::compacted || ec == Errc::future_revision;
}

std::chrono::nanoseconds backoff(const StmOptions& options, int attempt, std::mt19937_64& rng) {
  using std::chrono::nanoseconds;
  const int shift = std::min(attempt - 1, 20);
  const auto cap = std::min<nanoseconds>(options.backoff_max, options.backoff_base * (1LL << shift));
  if (cap.count() <= 0) return nanoseconds(0);
  return nanoseconds(std::uniform_int_distribution<std::int64_t>(0, cap.count())(rng));
}

asio::awaitable<StmResult> run(Client client, StmFunction apply, StmOptions options) {
  if (options.max_attempts < 1) {
    throw Error(make_error_code(Errc::invalid_option),
                "stm: max_attempts must be at least 1, not " +
                    std::to_string(options.max_attempts));
  }
  if (!apply) {
    throw Error(make_error_code(Errc::invalid_option), "stm: no transaction function given");
  }
  StmState state(options.isolation);
  std::mt19937_64 rng(std::random_device{}());
  asio::steady_timer timer(co_await asio::this_coro::executor);
  for (int attempt = 1;; ++attempt) {
    state.begin_attempt();
    std::exception_ptr failed_apply;
    bool read_failed = false;
    try {
      if (!options.prefetch.empty()) co_await fetch(client, state, options.prefetch);
      for (;;) {
        bool complete = false;
        try {
          complete = state.run(apply);
        } catch (...) {
          failed_apply = std::current_exception();
          break;
        }
        if (complete) break;
        co_await fetch(client, state, state.missing());
      }
    } catch (const Error& e) {
      if (!retry_read(e.code()) || attempt >= options.max_attempts) throw;
      read_failed = true;
    }
    // The function threw: nothing was sent, nothing is written.
    if (failed_apply) std::rethrow_exception(failed_apply);

    if (read_failed) {
      state.forget_pin();
    } else {
      std::vector<std::string> reread;
      const Txn txn = state.commit_txn(reread);
      auto [error, result] = co_await client.async_txn(txn, as_tuple_awaitable);
      const std::error_code ec = error_code_of(error);
      if (ec && (is_transient(ec) || ec == Errc::cancelled || ec == Errc::unknown)) {
        // The commit may have been applied: sending it again could apply it twice.
        throw OutcomeUnknownError(ec, "stm commit \"" + state.some_key() +
                            "\": outcome unknown (it may have been applied, and was not sent "
                            "again): " + ec.message());
      }
      if (error) std::rethrow_exception(error);
      if (result.succeeded) co_return StmResult{result.header, attempt};
      if (attempt >= options.max_attempts) {
        throw Error(make_error_code(Errc::aborted),
                    "stm: gave up after " + std::to_string(attempt) +
                        " attempts: the keys it read kept changing before it could commit "
                        "(raise StmOptions::max_attempts, or spread the load)");
      }
      state.prefetch_from(reread, result);
    }
    timer.expires_after(backoff(options, attempt, rng));
    co_await timer.async_wait(as_tuple_awaitable);
  }
}

}  // namespace

void start_stm(const Client& client, StmFunction apply, StmOptions options,
               asio::any_io_executor executor, etcdpp::detail::RecipeCallback<StmResult> callback) {
  etcdpp::detail::spawn(executor, run(client, std::move(apply), std::move(options)),
                        std::move(callback));
}

}  // namespace detail

std::optional<std::string> Stm::get(std::string_view key) { return state_.get(key); }
void Stm::fetch(const std::vector<std::string>& keys) { state_.fetch(keys); }
std::int64_t Stm::rev(std::string_view key) { return state_.rev(key); }
void Stm::put(std::string_view key, std::string_view value, PutOptions options) {
  state_.put(key, value, options);
}
void Stm::delete_key(std::string_view key) { state_.delete_key(key); }

StmResult run_stm(const Client& client, StmFunction apply, StmOptions options) {
  return etcdpp::detail::block_on(client,
                                  detail::run(client, std::move(apply), std::move(options)));
}

}  // namespace etcdpp::concurrency
