// SPDX-License-Identifier: Apache-2.0
// Transactions: a Txn is a list of compares and two lists of operations, run atomically by
// Client::txn (client.hpp). It reads like etcd's documentation:
//
//   auto t = Txn{}
//       .if_(Compare::value("config/mode") == "blue")
//       .then(Op::put("config/mode", "green"))
//       .else_(Op::get("config/mode"));
#pragma once

#include <cstdint>
#include <initializer_list>
#include <memory>
#include <string>
#include <string_view>
#include <type_traits>
#include <variant>
#include <vector>

#include "etcdpp/kv.hpp"

namespace etcdpp {

class Txn;

/// One condition of a transaction: a key's (or a range's) value, version, create revision, mod
/// revision or lease, compared with a constant. Made by the factories below:
/// `Compare::version("k") == 0` holds when "k" does not exist.
///
/// A key that does not exist has version, revisions and lease 0, and a compare of its value
/// fails whatever the operator (etcd's rule). On a range, the compare holds when it holds for
/// every key in it; a range with no key in it is compared as a key that does not exist.
struct Compare {
  /// What is compared (etcd's Compare.CompareTarget): KeyValue's version, create_revision,
  /// mod_revision, value (bytewise) or lease.
  enum class Target { version, create_revision, mod_revision, value, lease };
  /// The operator (etcd's Compare.CompareResult): the key's field ==, >, < or != the constant.
  enum class Result { equal, greater, less, not_equal };

  Target target = Target::value;  ///< What is compared; `number` or `bytes` holds the constant.
  Result result = Result::equal;  ///< The operator, the key's field on its left.
  std::string key;  ///< The key, or the first of the range; a view's prefix is added when sent.
  std::string range_end;  ///< When set, the compare holds for every key in [key, range_end).
  std::int64_t number = 0;  ///< The constant for version, revisions and lease.
  std::string bytes{};      ///< The constant for value (binary-safe).

  bool operator==(const Compare&) const = default;  ///< Member-wise comparison.

  /// The left-hand side of a compare; apply ==, !=, < or > to get a Compare.
  template <class T>
  struct Operand {
    Target target;          ///< What the compare reads of each key.
    std::string key;        ///< The key, or the first of the range.
    std::string range_end;  ///< Empty for one key; set by range() or prefix().

    /// The compare applies to every key in [key, end).
    Operand range(std::string_view end) && {
      range_end = end;
      return std::move(*this);
    }
    /// The compare applies to every key that starts with the operand's key.
    Operand prefix() && {
      range_end = prefix_range_end(key);
      return std::move(*this);
    }

    /// A compare that holds when the key's field equals `rhs`.
    Compare operator==(const T& rhs) && { return make(Result::equal, rhs); }
    /// A compare that holds when the key's field differs from `rhs`.
    Compare operator!=(const T& rhs) && { return make(Result::not_equal, rhs); }
    /// A compare that holds when the key's field is less than `rhs` (bytewise for a value).
    Compare operator<(const T& rhs) && { return make(Result::less, rhs); }
    /// A compare that holds when the key's field is greater than `rhs` (bytewise for a value).
    Compare operator>(const T& rhs) && { return make(Result::greater, rhs); }

   private:
    Compare make(Result r, const T& rhs) {
      Compare c{.target = target,
                .result = r,
                .key = std::move(key),
                .range_end = std::move(range_end),
                .number = 0,
                .bytes = {}};
      if constexpr (std::is_same_v<T, std::string>) {
        c.bytes = rhs;
      } else if constexpr (std::is_same_v<T, LeaseId>) {
        c.number = static_cast<std::int64_t>(rhs);
      } else {
        c.number = rhs;
      }
      return c;
    }
  };

  /// Compares the value of `key`, bytewise; fails for a key that does not exist.
  static Operand<std::string> value(std::string_view key) { return {Target::value, std::string(key), {}}; }
  /// Compares the version of `key` (KeyValue::version; 0 when the key does not exist).
  static Operand<std::int64_t> version(std::string_view key) { return {Target::version, std::string(key), {}}; }
  /// Compares the create revision of `key` (0 when the key does not exist).
  static Operand<std::int64_t> create_revision(std::string_view key) {
    return {Target::create_revision, std::string(key), {}};
  }
  /// Compares the mod revision of `key` (0 when the key does not exist).
  static Operand<std::int64_t> mod_revision(std::string_view key) {
    return {Target::mod_revision, std::string(key), {}};
  }
  /// Compares the lease of `key` (LeaseId{0} when it has none or does not exist).
  static Operand<LeaseId> lease(std::string_view key) { return {Target::lease, std::string(key), {}}; }
};

/// One operation of a transaction: a get, a put, a delete or a nested transaction.
class Op {
 public:
  /// A read, as Client::get(key, options) makes it.
  struct Get {
    std::string key;        ///< The key, or the start of the range.
    std::string range_end;  ///< The end of the range, owned by the Op (GetOptions::range_end).
    GetOptions options;     ///< The read's options; its range_end is empty (see range_end).
  };
  /// A write, as Client::put(key, value, options) makes it.
  struct Put {
    std::string key;     ///< The key written.
    std::string value;   ///< The value written (bytes).
    PutOptions options;  ///< The lease and the other options of the put.
  };
  /// A delete, as Client::delete_range(key, options) makes it.
  struct Delete {
    std::string key;        ///< The key, or the start of the range.
    std::string range_end;  ///< The end of the range, owned by the Op (DeleteOptions::range_end).
    DeleteOptions options;  ///< prefix, from_key, prev_kv; its range_end is empty (see range_end).
  };

  /// Reads `key`, a range or a prefix, as Client::get(key, options); its result is a GetResult
  /// (with `kvs` empty for a key that does not exist).
  static Op get(std::string_view key, GetOptions options = {}) {
    std::string end(options.range_end);
    options.range_end = {};
    return Op(Get{std::string(key), std::move(end), options});
  }
  /// Writes `value` at `key`, as Client::put; its result is a PutResult.
  static Op put(std::string_view key, std::string_view value, PutOptions options = {}) {
    return Op(Put{std::string(key), std::string(value), options});
  }
  /// Deletes `key`, a range or a prefix, as Client::delete_range; its result is a DeleteResult.
  static Op delete_range(std::string_view key, DeleteOptions options = {}) {
    std::string end(options.range_end);
    options.range_end = {};
    return Op(Delete{std::string(key), std::move(end), options});
  }
  /// A nested transaction, run when the branch that holds this Op runs; its result is a
  /// TxnResult. The Txn is moved into shared storage: copies of the Op share it.
  static Op txn(Txn txn);

  /// Get, Put, Delete, or the nested Txn.
  using Variant = std::variant<Get, Put, Delete, std::shared_ptr<const Txn>>;
  /// The operation, for code that reads a transaction back (std::visit it).
  const Variant& variant() const noexcept { return op_; }

 private:
  explicit Op(Variant op) : op_(std::move(op)) {}
  Variant op_;
};

/// A transaction: if every compare holds, the `then` operations run, else the `else_` ones.
/// Compares are combined with AND; an empty list holds. etcd takes at most 128 compares and
/// 128 operations in each branch (its --max-txn-ops; more fail with Errc::too_many_txn_ops),
/// and refuses a branch that writes one key twice (Errc::duplicate_key_in_txn).
class Txn {
 public:
  /// Adds `compare`: the then branch runs only if it holds, with every other compare.
  Txn& if_(Compare compare) & {
    compares_.push_back(std::move(compare));
    return *this;
  }
  /// Adds `compare` to a temporary Txn, for chains such as `Txn{}.if_(c).then(op)`.
  Txn&& if_(Compare compare) && { return std::move(if_(std::move(compare))); }
  /// Adds each of `compares`, in order.
  Txn& if_(std::initializer_list<Compare> compares) & {
    compares_.insert(compares_.end(), compares);
    return *this;
  }
  /// Adds each of `compares` to a temporary Txn, in order.
  Txn&& if_(std::initializer_list<Compare> compares) && { return std::move(if_(compares)); }

  /// Adds `op` to the then branch: the operations run, in order, when every compare holds.
  Txn& then(Op op) & {
    success_.push_back(std::move(op));
    return *this;
  }
  /// Adds `op` to the then branch of a temporary Txn.
  Txn&& then(Op op) && { return std::move(then(std::move(op))); }
  /// Adds `ops`, in order, to the then branch.
  Txn& then(std::initializer_list<Op> ops) & {
    success_.insert(success_.end(), ops);
    return *this;
  }
  /// Adds `ops`, in order, to the then branch of a temporary Txn.
  Txn&& then(std::initializer_list<Op> ops) && { return std::move(then(ops)); }

  /// Adds `op` to the else branch: the operations run, in order, when a compare fails.
  Txn& else_(Op op) & {
    failure_.push_back(std::move(op));
    return *this;
  }
  /// Adds `op` to the else branch of a temporary Txn.
  Txn&& else_(Op op) && { return std::move(else_(std::move(op))); }
  /// Adds `ops`, in order, to the else branch.
  Txn& else_(std::initializer_list<Op> ops) & {
    failure_.insert(failure_.end(), ops);
    return *this;
  }
  /// Adds `ops`, in order, to the else branch of a temporary Txn.
  Txn&& else_(std::initializer_list<Op> ops) && { return std::move(else_(ops)); }

  /// The compares, in the order added (etcd's TxnRequest.compare).
  const std::vector<Compare>& compares() const noexcept { return compares_; }
  /// The then branch, in order (etcd's TxnRequest.success).
  const std::vector<Op>& success() const noexcept { return success_; }
  /// The else branch, in order (etcd's TxnRequest.failure).
  const std::vector<Op>& failure() const noexcept { return failure_; }

  /// True when no operation, nested ones included, writes: such a transaction is safe to retry.
  bool read_only() const noexcept;

 private:
  std::vector<Compare> compares_;
  std::vector<Op> success_;
  std::vector<Op> failure_;
};

inline Op Op::txn(Txn txn) { return Op(std::make_shared<const Txn>(std::move(txn))); }

struct OpResult;

/// The answer to a transaction: whether the compares held, and one result per operation of the
/// branch that ran, in order. Client::txn returns it, and a nested transaction's OpResult holds
/// one.
struct TxnResult {
  ResponseHeader header;  ///< The header of etcd's response (cluster, member, revision, term).
  bool succeeded = false;  ///< True when every compare held and the then branch ran, else false.
  std::vector<OpResult> responses;  ///< One per operation of the branch that ran, in its order.

  bool operator==(const TxnResult&) const;  ///< Member-wise comparison.
};

/// The result of one operation in a transaction.
struct OpResult {
  /// The result, of the type that matches the operation: GetResult for a get, PutResult,
  /// DeleteResult, or TxnResult for a nested transaction.
  std::variant<GetResult, PutResult, DeleteResult, TxnResult> value;

  /// The result of a get; throws std::bad_variant_access when the operation was another kind.
  const GetResult& get() const { return std::get<GetResult>(value); }
  /// The result of a put; throws std::bad_variant_access when the operation was another kind.
  const PutResult& put() const { return std::get<PutResult>(value); }
  /// The result of a delete; throws std::bad_variant_access when the operation was another kind.
  const DeleteResult& delete_range() const { return std::get<DeleteResult>(value); }
  /// The result of a nested transaction; throws std::bad_variant_access when it was another kind.
  const TxnResult& txn() const { return std::get<TxnResult>(value); }

  bool operator==(const OpResult&) const = default;  ///< Member-wise comparison.
};

inline bool TxnResult::operator==(const TxnResult& o) const {
  return header == o.header && succeeded == o.succeeded && responses == o.responses;
}

}  // namespace etcdpp
