// SPDX-License-Identifier: Apache-2.0
// Software transactional memory over etcd: a function reads and writes keys through an Stm, and
// run_stm commits what it wrote atomically if what it read has not changed (at the chosen
// isolation), running it again on a conflict. Built on Client::txn (client.hpp, txn.hpp).
#pragma once

#include <chrono>
#include <cstdint>
#include <exception>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "etcdpp/client.hpp"
#include "etcdpp/detail/recipe_async.hpp"

namespace etcdpp::concurrency {

/// What a transaction reads and what it checks when it commits.
enum class Isolation {
  /// The first read is linearizable; its revision R pins every later read of the attempt (a
  /// snapshot at R). The commit checks that each key read is unchanged, and that each key
  /// written has not been modified since R: no lost update, no write skew, even for keys
  /// written without being read. The default.
  serializable_snapshot,
  /// Reads as serializable_snapshot; the commit checks the keys read only, so a key written
  /// without being read never conflicts (the last such write wins).
  serializable,
  /// Each key is read once per attempt, from the member's local state (possibly stale); the
  /// commit checks that each key read is unchanged. Reads are not one snapshot.
  repeatable_read,
  /// Each key is read once per attempt from the member's local state; the commit checks
  /// nothing and always succeeds, so concurrent read-modify-writes lose updates (two transfers
  /// that read the same balance both write "balance - amount": one of them is lost).
  read_committed,
};

/// How run_stm runs a transaction function.
struct StmOptions {
  /// The isolation level: what the attempts read and what the commit checks.
  Isolation isolation = Isolation::serializable_snapshot;
  /// Keys read in one round trip before each attempt (the prefetch idiom): the function then
  /// reads them without waiting.
  std::vector<std::string> prefetch{};
  /// Attempts before run_stm gives up with Errc::aborted (at least 1).
  int max_attempts = 100;
  /// Wait before attempt n+1 after a conflict or a failed read: uniformly random in
  /// [0, min(backoff_max, backoff_base * 2^(n-1))] (full jitter), so that contenders spread
  /// out.
  std::chrono::milliseconds backoff_base{2};
  std::chrono::milliseconds backoff_max{250};  ///< The cap of that wait.
};

/// What run_stm answers once the transaction committed.
struct StmResult {
  ResponseHeader header;  ///< The commit's header: `header.revision` is the commit revision.
  int attempts = 0;       ///< Attempts made, the committed one included (1: no conflict).

  bool operator==(const StmResult&) const = default;  ///< Member-wise comparison.
};

/// A commit that failed on a transient error (the member died or the deadline passed while it
/// was in flight): it may or may not have been applied, and it is never sent again, since a
/// second send could apply it twice. Find out by reading what it wrote (a key unique to the
/// transaction, written with it, tells).
class OutcomeUnknownError : public Error {
 public:
  /// As Error's constructor; run_stm passes the commit's error code and a message naming a
  /// key of the transaction (one it wrote, if any).
  using Error::Error;
};

namespace detail {
class StmState;
}

/// The transaction's view of the store, passed to the transaction function: reads are
/// recorded (and cached for the attempt), writes buffered until the commit.
///
/// **Thread safety** Used by the transaction function only, on the thread that runs it.
/// **Errors** A read that needs a round trip interrupts the function with an internal exception
/// (the key is then fetched and the function run again): do not catch it with `catch (...)`, or
/// rethrow what you caught.
class Stm {
 public:
  Stm(const Stm&) = delete;
  Stm& operator=(const Stm&) = delete;

  /// The value of `key` as this transaction sees it: its own write if any, else the value read
  /// at the isolation's revision; std::nullopt when the key does not exist (or was deleted by
  /// this transaction).
  std::optional<std::string> get(std::string_view key);
  /// Reads several keys in one round trip (those not read yet), for get() to find afterwards.
  void fetch(const std::vector<std::string>& keys);
  /// The mod revision of `key` as read (0 when it does not exist); reads it if needed.
  std::int64_t rev(std::string_view key);
  /// Writes `key` = `value` at the commit (with `options.lease` if set).
  void put(std::string_view key, std::string_view value, PutOptions options = {});
  /// Deletes `key` at the commit.
  void delete_key(std::string_view key);

 private:
  friend class detail::StmState;
  explicit Stm(detail::StmState& state) : state_(state) {}
  detail::StmState& state_;
};

/// The transaction function: reads and writes through the Stm. It may run several times (once
/// per attempt, and again after each read that needed a round trip), so it must have no effect
/// but through the Stm. Throwing aborts the transaction: nothing is written.
using StmFunction = std::function<void(Stm&)>;

/// Runs `apply` as a transaction and commits its writes atomically.
///
/// A conflict (a key read changed before the commit) runs it again after a jittered backoff, at
/// most `options.max_attempts` times. A read that fails on a transient error (an unavailable
/// member, a leader change) starts the attempt again too; a pinned read that a lagging member
/// cannot serve yet is made again as a linearizable read.
///
/// **Errors** Throws what `apply` threw, with nothing written. Throws Error: Errc::aborted
/// when the last of max_attempts attempts (conflicts and failed reads count alike) conflicts,
/// the read's own error when it fails in a read; the code of a failed read that is not
/// transient; the code of a failed commit. OutcomeUnknownError when the commit failed on a
/// transient error.
/// Must not be called on the client's executor's thread (it waits for it).
StmResult run_stm(const Client& client, StmFunction apply, StmOptions options = {});

namespace detail {
/// The asynchronous core of run_stm and async_run_stm.
void start_stm(const Client& client, StmFunction apply, StmOptions options,
               asio::any_io_executor executor, etcdpp::detail::RecipeCallback<StmResult> callback);
}  // namespace detail

/// @copydoc run_stm
/// Handler signature: `void(std::exception_ptr, StmResult)`: the exception is what the blocking
/// face would throw (what `apply` threw, or Error). **Executor** `apply` runs on the handler's
/// associated executor when it is an I/O executor, else on the client's; the handler is invoked
/// on its associated executor. `apply` never blocks it: a read not made yet interrupts `apply`,
/// which runs again once the key is fetched. **Object lifetimes** `apply` and the options are
/// moved into the operation, which keeps a copy of the client.
template <class Token>
auto async_run_stm(const Client& client, StmFunction apply, StmOptions options, Token&& token) {
  return etcdpp::detail::initiate_recipe<StmResult>(
      client.executor(), std::forward<Token>(token),
      [client, apply = std::move(apply), options = std::move(options)](
          asio::any_io_executor executor, auto callback) mutable {
        detail::start_stm(client, std::move(apply), std::move(options), std::move(executor),
                  std::move(callback));
      });
}

}  // namespace etcdpp::concurrency
