// SPDX-License-Identifier: Apache-2.0
#include "etcdpp/error.hpp"

#include <array>
#include <cstdio>

#include "detail/status.hpp"

namespace etcdpp {
namespace {

struct EtcdError {
  Errc code;
  std::string_view message;  // etcd's text, as rpctypes/error.go spells it
};

// etcd v3's errors (server/etcdserver/api/v3rpc/rpctypes). Only the text tells them apart: many
// share a gRPC code (InvalidArgument covers an empty key and too many txn ops alike).
constexpr std::array kEtcdErrors{
    EtcdError{Errc::empty_key, "etcdserver: key is not provided"},
    EtcdError{Errc::key_not_found, "etcdserver: key not found"},
    EtcdError{Errc::value_provided, "etcdserver: value is provided"},
    EtcdError{Errc::lease_provided, "etcdserver: lease is provided"},
    EtcdError{Errc::too_many_txn_ops, "etcdserver: too many operations in txn request"},
    EtcdError{Errc::duplicate_key_in_txn, "etcdserver: duplicate key given in txn request"},
    EtcdError{Errc::compacted, "etcdserver: mvcc: required revision has been compacted"},
    EtcdError{Errc::future_revision, "etcdserver: mvcc: required revision is a future revision"},
    EtcdError{Errc::no_space, "etcdserver: mvcc: database space exceeded"},
    EtcdError{Errc::lease_not_found, "etcdserver: requested lease not found"},
    EtcdError{Errc::lease_exists, "etcdserver: lease already exists"},
    EtcdError{Errc::lease_ttl_too_large, "etcdserver: too large lease TTL"},
    EtcdError{Errc::watch_canceled, "etcdserver: watch canceled"},
    EtcdError{Errc::member_exists, "etcdserver: member ID already exist"},
    EtcdError{Errc::peer_url_exists, "etcdserver: Peer URLs already exists"},
    EtcdError{Errc::member_not_enough_started,
              "etcdserver: re-configuration failed due to not enough started members"},
    EtcdError{Errc::member_bad_urls, "etcdserver: given member URLs are invalid"},
    EtcdError{Errc::member_not_found, "etcdserver: member not found"},
    EtcdError{Errc::member_not_learner, "etcdserver: can only promote a learner member"},
    EtcdError{Errc::learner_not_ready,
              "etcdserver: can only promote a learner member which is in sync with leader"},
    EtcdError{Errc::too_many_learners, "etcdserver: too many learner members in cluster"},
    EtcdError{Errc::request_too_large, "etcdserver: request is too large"},
    EtcdError{Errc::too_many_requests, "etcdserver: too many requests"},
    EtcdError{Errc::root_user_not_exist, "etcdserver: root user does not exist"},
    EtcdError{Errc::root_role_not_exist, "etcdserver: root user does not have root role"},
    EtcdError{Errc::user_already_exists, "etcdserver: user name already exists"},
    EtcdError{Errc::user_empty, "etcdserver: user name is empty"},
    EtcdError{Errc::user_not_found, "etcdserver: user name not found"},
    EtcdError{Errc::role_already_exists, "etcdserver: role name already exists"},
    EtcdError{Errc::role_not_found, "etcdserver: role name not found"},
    EtcdError{Errc::role_empty, "etcdserver: role name is empty"},
    EtcdError{Errc::auth_failed,
              "etcdserver: authentication failed, invalid user ID or password"},
    EtcdError{Errc::auth_permission_denied, "etcdserver: permission denied"},
    EtcdError{Errc::role_not_granted, "etcdserver: role is not granted to the user"},
    EtcdError{Errc::permission_not_granted, "etcdserver: permission is not granted to the role"},
    EtcdError{Errc::auth_not_enabled, "etcdserver: authentication is not enabled"},
    EtcdError{Errc::invalid_auth_token, "etcdserver: invalid auth token"},
    EtcdError{Errc::invalid_auth_management, "etcdserver: invalid auth management"},
    EtcdError{Errc::auth_old_revision, "etcdserver: revision of auth store is old"},
    EtcdError{Errc::no_leader, "etcdserver: no leader"},
    EtcdError{Errc::not_leader, "etcdserver: not leader"},
    EtcdError{Errc::leader_changed, "etcdserver: leader changed"},
    EtcdError{Errc::not_capable, "etcdserver: not capable"},
    EtcdError{Errc::server_stopped, "etcdserver: server stopped"},
    EtcdError{Errc::server_timeout, "etcdserver: request timed out"},
    EtcdError{Errc::timeout_due_to_leader_fail,
              "etcdserver: request timed out, possibly due to previous leader failure"},
    EtcdError{Errc::timeout_due_to_connection_lost,
              "etcdserver: request timed out, possibly due to connection lost"},
    EtcdError{Errc::timeout_wait_applied_index,
              "etcdserver: request timed out, waiting for the applied index took too long"},
    EtcdError{Errc::unhealthy_cluster, "etcdserver: unhealthy cluster"},
    EtcdError{Errc::corrupt_cluster, "etcdserver: corrupt cluster"},
    EtcdError{Errc::bad_leader_transferee, "etcdserver: bad leader transferee"},
};

constexpr std::array<std::string_view, 17> kGrpcNames{
    "ok",          "cancelled",          "unknown",           "invalid argument",
    "deadline exceeded", "not found",    "already exists",    "permission denied",
    "resource exhausted", "failed precondition", "aborted",   "out of range",
    "unimplemented", "internal error",   "unavailable",       "data loss",
    "unauthenticated"};

class Category final : public std::error_category {
 public:
  const char* name() const noexcept override { return "etcdpp"; }

  std::string message(int value) const override {
    if (value >= 0 && value < static_cast<int>(kGrpcNames.size())) {
      return std::string(kGrpcNames[static_cast<std::size_t>(value)]);
    }
    for (const auto& e : kEtcdErrors) {
      if (static_cast<int>(e.code) == value) return std::string(e.message);
    }
    switch (static_cast<Errc>(value)) {
      case Errc::invalid_endpoint: return "invalid endpoint";
      case Errc::invalid_option: return "invalid option";
      case Errc::etcd_not_found: return "etcd binary not found (Debian package etcd-server)";
      case Errc::node_failed: return "embedded etcd node failed";
      case Errc::file_error: return "file error";
      case Errc::tls_handshake_failed:
        return "TLS handshake failed (certificate not trusted, or refused by the server)";
      case Errc::session_lost:
        return "session lost (its lease expired or was revoked, or it was closed)";
      case Errc::not_elected: return "not the leader of the election";
      default: return "unknown etcdpp error " + std::to_string(value);
    }
  }

  // What etcdpp's codes mean in the standard's terms: `ec == std::errc::timed_out`.
  std::error_condition default_error_condition(int value) const noexcept override {
    switch (static_cast<Errc>(value)) {
      case Errc::deadline_exceeded: return std::errc::timed_out;
      case Errc::cancelled: return std::errc::operation_canceled;
      default: return {value, *this};
    }
  }
};

// Condition::unavailable: no member could serve the call now (is_transient accepts these and
// the codes of time and load).
bool none_could_serve(Errc e) noexcept {
  switch (e) {
    case Errc::unavailable:
    case Errc::no_leader:
    case Errc::leader_changed:
    case Errc::not_capable:
    case Errc::server_stopped:
    case Errc::timeout_due_to_leader_fail:
    case Errc::timeout_due_to_connection_lost:
    case Errc::unhealthy_cluster:
      return true;
    default:
      return false;
  }
}

bool in_group(Condition group, Errc e) noexcept {
  switch (group) {
    case Condition::retryable:
      return is_transient(make_error_code(e));
    case Condition::unavailable:
      return none_could_serve(e);
    case Condition::auth:
      switch (e) {
        case Errc::unauthenticated:
        case Errc::permission_denied:
        case Errc::auth_failed:
        case Errc::invalid_auth_token:
        case Errc::auth_old_revision:
        case Errc::auth_permission_denied:
        case Errc::permission_not_granted:
        case Errc::role_not_granted:
          return true;
        default:
          return false;
      }
    case Condition::lease_lost:
      return e == Errc::lease_not_found || e == Errc::session_lost;
    case Condition::compacted:
      return e == Errc::compacted;
  }
  return false;
}

class ConditionCategory final : public std::error_category {
 public:
  const char* name() const noexcept override { return "etcdpp.condition"; }

  std::string message(int value) const override {
    switch (static_cast<Condition>(value)) {
      case Condition::retryable: return "may succeed if made again";
      case Condition::unavailable: return "no member could serve it now";
      case Condition::auth: return "credentials or permissions";
      case Condition::lease_lost: return "the lease is gone";
      case Condition::compacted: return "the revision was compacted";
    }
    return "unknown etcdpp condition " + std::to_string(value);
  }

  bool equivalent(const std::error_code& code, int condition) const noexcept override {
    return code.category() == etcdpp::error_category() &&
           in_group(static_cast<Condition>(condition), static_cast<Errc>(code.value()));
  }
};

}  // namespace

const std::error_category& error_category() noexcept {
  static const Category category;
  return category;
}

const std::error_category& condition_category() noexcept {
  static const ConditionCategory category;
  return category;
}

bool is_transient(std::error_code ec) noexcept {
  if (ec.category() != error_category()) return false;
  const auto e = static_cast<Errc>(ec.value());
  // What no member could serve now, and what ran out of time or was turned away for load.
  return none_could_serve(e) || e == Errc::deadline_exceeded || e == Errc::server_timeout ||
         e == Errc::timeout_wait_applied_index || e == Errc::too_many_requests;
}

std::error_code error_code_of(const std::exception_ptr& e) noexcept {
  if (!e) return {};
  try {
    std::rethrow_exception(e);
  } catch (const std::system_error& error) {
    return error.code();
  } catch (...) {
    return make_error_code(Errc::unknown);
  }
}

void throw_error(std::error_code ec, const std::string& what) {
  if (ec == Errc::compacted) throw CompactedError(what, 0);
  throw Error(ec, what);
}

namespace detail {

std::error_code error_from_status(int code, std::string_view message) noexcept {
  if (code == 0) return {};
  if (message.starts_with("etcdserver:")) {
    for (const auto& e : kEtcdErrors) {
      if (message == e.message) return make_error_code(e.code);
    }
  }
  // gRPC reports a failed TLS handshake as unavailability; it is a configuration fault that no
  // retry cures (transport/words.cpp words it "TLS handshake with <endpoint> ...").
  if (code == static_cast<int>(Errc::unavailable) &&
      (message.starts_with("TLS handshake with") ||
       message.find("Ssl handshake failed") != std::string_view::npos ||
       message.find("TLS handshake refused") != std::string_view::npos)) {
    return make_error_code(Errc::tls_handshake_failed);
  }
  if (code < 0 || code > 16) code = static_cast<int>(Errc::unknown);
  return {code, error_category()};
}

CallStatus call_status(int code, std::string message) {
  return CallStatus{error_from_status(code, message), std::move(message)};
}

std::string describe(std::string_view call, std::string_view key, const CallStatus& status) {
  std::string out(call);
  out += " \"";
  for (const unsigned char c : key.substr(0, 200)) {
    if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') {
      out += static_cast<char>(c);
    } else {
      char buf[5];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    }
  }
  if (key.size() > 200) out += "...";
  out += '"';
  // std::system_error appends ": " and the code's message; add the server's text only when it
  // says more than that (gRPC's details, such as "Sent message larger than max").
  if (!status.message.empty() && status.message != status.code.message()) {
    out += ": ";
    out += status.message;
  }
  return out;
}

void throw_if_failed(std::string_view call, std::string_view key, const CallStatus& status) {
  if (status.exception) std::rethrow_exception(status.exception);
  if (status.code) throw_error(status.code, describe(call, key, status));
}

std::exception_ptr make_exception(std::string_view call, std::string_view what,
                                  const CallStatus& status) {
  if (status.exception) return status.exception;
  if (!status.code) return nullptr;
  std::string text;
  if (!call.empty()) {
    text = describe(call, what, status);
  } else if (!status.message.empty() && status.message != status.code.message()) {
    text = status.message;
  } else {
    text = "etcdpp";  // std::system_error adds ": " and the code's message
  }
  if (status.code == Errc::compacted) return std::make_exception_ptr(CompactedError(text, 0));
  return std::make_exception_ptr(Error(status.code, text));
}

}  // namespace detail
}  // namespace etcdpp
