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
/// revision or lease, compared with a constant.
struct Compare {
  enum class Target { version, create_revision, mod_revision, value, lease };
  enum class Result { equal, greater, less, not_equal };

  Target target = Target::value;
  Result result = Result::equal;
  std::string key;
  std::string range_end;  ///< When set, the compare holds for every key in [key, range_end).
  std::int64_t number = 0;  ///< The constant for version, revisions and lease.
  std::string bytes{};      ///< The constant for value (binary-safe).

  bool operator==(const Compare&) const = default;

  /// The left-hand side of a compare; apply ==, !=, < or > to get a Compare.
  template <class T>
  struct Operand {
    Target target;
    std::string key;
    std::string range_end;

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

    Compare operator==(const T& rhs) && { return make(Result::equal, rhs); }
    Compare operator!=(const T& rhs) && { return make(Result::not_equal, rhs); }
    Compare operator<(const T& rhs) && { return make(Result::less, rhs); }
    Compare operator>(const T& rhs) && { return make(Result::greater, rhs); }

   private:
    Compare make(Result r, const T& rhs) {
      Compare c{.target = target, .result = r, .key = std::move(key), .range_end = std::move(range_end)};
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

  static Operand<std::string> value(std::string_view key) { return {Target::value, std::string(key), {}}; }
  static Operand<std::int64_t> version(std::string_view key) { return {Target::version, std::string(key), {}}; }
  static Operand<std::int64_t> create_revision(std::string_view key) {
    return {Target::create_revision, std::string(key), {}};
  }
  static Operand<std::int64_t> mod_revision(std::string_view key) {
    return {Target::mod_revision, std::string(key), {}};
  }
  static Operand<LeaseId> lease(std::string_view key) { return {Target::lease, std::string(key), {}}; }
};

/// One operation of a transaction: a get, a put, a delete or a nested transaction.
class Op {
 public:
  struct Get {
    std::string key;
    GetOptions options;
  };
  struct Put {
    std::string key;
    std::string value;
    PutOptions options;
  };
  struct Delete {
    std::string key;
    DeleteOptions options;
  };

  static Op get(std::string_view key, GetOptions options = {}) {
    return Op(Get{std::string(key), std::move(options)});
  }
  static Op put(std::string_view key, std::string_view value, PutOptions options = {}) {
    return Op(Put{std::string(key), std::string(value), options});
  }
  static Op delete_range(std::string_view key, DeleteOptions options = {}) {
    return Op(Delete{std::string(key), std::move(options)});
  }
  static Op txn(Txn txn);

  /// Get, Put, Delete, or the nested Txn.
  using Variant = std::variant<Get, Put, Delete, std::shared_ptr<const Txn>>;
  const Variant& variant() const noexcept { return op_; }

 private:
  explicit Op(Variant op) : op_(std::move(op)) {}
  Variant op_;
};

/// A transaction: if every compare holds, the `then` operations run, else the `else_` ones.
/// Compares are combined with AND; an empty list holds. etcd limits a transaction to 128
/// operations (its --max-txn-ops) and forbids writing one key twice.
class Txn {
 public:
  Txn& if_(Compare compare) & {
    compares_.push_back(std::move(compare));
    return *this;
  }
  Txn&& if_(Compare compare) && { return std::move(if_(std::move(compare))); }
  Txn& if_(std::initializer_list<Compare> compares) & {
    compares_.insert(compares_.end(), compares);
    return *this;
  }
  Txn&& if_(std::initializer_list<Compare> compares) && { return std::move(if_(compares)); }

  Txn& then(Op op) & {
    success_.push_back(std::move(op));
    return *this;
  }
  Txn&& then(Op op) && { return std::move(then(std::move(op))); }
  Txn& then(std::initializer_list<Op> ops) & {
    success_.insert(success_.end(), ops);
    return *this;
  }
  Txn&& then(std::initializer_list<Op> ops) && { return std::move(then(ops)); }

  Txn& else_(Op op) & {
    failure_.push_back(std::move(op));
    return *this;
  }
  Txn&& else_(Op op) && { return std::move(else_(std::move(op))); }
  Txn& else_(std::initializer_list<Op> ops) & {
    failure_.insert(failure_.end(), ops);
    return *this;
  }
  Txn&& else_(std::initializer_list<Op> ops) && { return std::move(else_(ops)); }

  const std::vector<Compare>& compares() const noexcept { return compares_; }
  const std::vector<Op>& success() const noexcept { return success_; }
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
/// branch that ran, in order.
struct TxnResult {
  ResponseHeader header;
  bool succeeded = false;
  std::vector<OpResult> responses;

  bool operator==(const TxnResult&) const;
};

/// The result of one operation in a transaction.
struct OpResult {
  std::variant<GetResult, PutResult, DeleteResult, TxnResult> value;

  /// The result as the type of the operation; throws std::bad_variant_access on a mismatch.
  const GetResult& get() const { return std::get<GetResult>(value); }
  const PutResult& put() const { return std::get<PutResult>(value); }
  const DeleteResult& delete_range() const { return std::get<DeleteResult>(value); }
  const TxnResult& txn() const { return std::get<TxnResult>(value); }

  bool operator==(const OpResult&) const = default;
};

inline bool TxnResult::operator==(const TxnResult& o) const {
  return header == o.header && succeeded == o.succeeded && responses == o.responses;
}

}  // namespace etcdpp
