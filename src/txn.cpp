// SPDX-License-Identifier: Apache-2.0
#include "etcdpp/txn.hpp"

#include "detail/convert.hpp"

namespace etcdpp {

bool Txn::read_only() const noexcept {
  const auto reads_only = [](const std::vector<Op>& ops) {
    for (const auto& op : ops) {
      const auto& v = op.variant();
      if (std::holds_alternative<Op::Get>(v)) continue;
      if (const auto* nested = std::get_if<std::shared_ptr<const Txn>>(&v)) {
        if ((*nested)->read_only()) continue;
      }
      return false;
    }
    return true;
  };
  return reads_only(success_) && reads_only(failure_);
}

namespace detail {
namespace {

void to_proto(std::string_view ns, const Compare& c, pb::Compare* out) {
  // A compare names a key, or a range when its end is set: mapped as the range of a get.
  KeyRange range = key_range(ns, c.key, c.range_end, false, false);
  out->set_key(std::move(range.key));
  out->set_range_end(std::move(range.range_end));
  out->set_result(static_cast<pb::Compare::CompareResult>(c.result));
  switch (c.target) {
    case Compare::Target::version:
      out->set_target(pb::Compare::VERSION);
      out->set_version(c.number);
      break;
    case Compare::Target::create_revision:
      out->set_target(pb::Compare::CREATE);
      out->set_create_revision(c.number);
      break;
    case Compare::Target::mod_revision:
      out->set_target(pb::Compare::MOD);
      out->set_mod_revision(c.number);
      break;
    case Compare::Target::value:
      out->set_target(pb::Compare::VALUE);
      out->set_value(c.bytes);
      break;
    case Compare::Target::lease:
      out->set_target(pb::Compare::LEASE);
      out->set_lease(c.number);
      break;
  }
}

void to_proto(std::string_view ns, const Op& op, pb::RequestOp* out) {
  std::visit(
      [ns, out](const auto& v) {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, Op::Get>) {
          GetOptions options = v.options;
          options.range_end = v.range_end;
          detail::to_proto(ns, v.key, options, out->mutable_request_range());
        } else if constexpr (std::is_same_v<T, Op::Put>) {
          detail::to_proto(ns, v.key, v.value, v.options, out->mutable_request_put());
        } else if constexpr (std::is_same_v<T, Op::Delete>) {
          DeleteOptions options = v.options;
          options.range_end = v.range_end;
          detail::to_proto(ns, v.key, options, out->mutable_request_delete_range());
        } else {
          detail::to_proto(ns, *v, out->mutable_request_txn());
        }
      },
      op.variant());
}

OpResult from_proto(std::string_view ns, pb::ResponseOp&& r) {
  switch (r.response_case()) {
    case pb::ResponseOp::kResponseRange:
      return OpResult{detail::from_proto(ns, std::move(*r.mutable_response_range()))};
    case pb::ResponseOp::kResponsePut:
      return OpResult{detail::from_proto(ns, std::move(*r.mutable_response_put()))};
    case pb::ResponseOp::kResponseDeleteRange:
      return OpResult{detail::from_proto(ns, std::move(*r.mutable_response_delete_range()))};
    case pb::ResponseOp::kResponseTxn:
      return OpResult{detail::from_proto(ns, std::move(*r.mutable_response_txn()))};
    default:
      return OpResult{GetResult{}};
  }
}

}  // namespace

void to_proto(std::string_view ns, const Txn& txn, pb::TxnRequest* out) {
  for (const auto& c : txn.compares()) to_proto(ns, c, out->add_compare());
  for (const auto& op : txn.success()) to_proto(ns, op, out->add_success());
  for (const auto& op : txn.failure()) to_proto(ns, op, out->add_failure());
}

TxnResult from_proto(std::string_view ns, pb::TxnResponse&& r) {
  TxnResult out{from_proto(r.header()), r.succeeded(), {}};
  out.responses.reserve(static_cast<std::size_t>(r.responses_size()));
  for (auto& op : *r.mutable_responses()) out.responses.push_back(from_proto(ns, std::move(op)));
  return out;
}

}  // namespace detail
}  // namespace etcdpp
