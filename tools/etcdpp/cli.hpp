// SPDX-License-Identifier: Apache-2.0
// What the verbs of the etcdpp command-line tool share: etcdctl's exit codes, the error that ends
// a command, the output format and the global flags, and the Client they describe.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "etcdpp/client.hpp"

namespace etcdpp::cli {

/// etcdctl's exit codes (etcdctl/ctlv3/command/error.go), kept so that scripts written for
/// etcdctl test the same numbers.
enum ExitCode : int {
  exit_success = 0,
  exit_error = 1,
  exit_bad_connection = 2,
  exit_invalid_input = 3,
  exit_bad_feature = 4,
  exit_interrupted = 5,
  exit_io = 6,
  exit_bad_args = 128,
};

/// Ends a command: main prints `Error: <message>` on stderr and exits with `code`.
struct ExitError {
  int code = exit_error;
  std::string message;
};

enum class Format { simple, json, table };

/// The global flags, as etcdctl names them.
struct GlobalFlags {
  std::vector<std::string> endpoints{"127.0.0.1:2379"};
  std::string user;
  std::string password;
  std::string cacert;
  std::string cert;
  std::string key;
  std::string command_timeout = "5s";
  std::string dial_timeout = "2s";
  std::string write_out = "simple";
  bool hex = false;
};

/// A Go duration as etcdctl's flags take it ("5s", "1.5s", "300ms", "1m30s"); throws ExitError
/// naming the flag when it is not one.
std::chrono::milliseconds parse_duration(std::string_view text, std::string_view flag);

/// Checks the global flags once parsed and builds clients from them.
class Context {
 public:
  explicit Context(GlobalFlags flags);

  Format format() const noexcept { return format_; }
  const GlobalFlags& flags() const noexcept { return flags_; }
  /// A client of every endpoint, made on first use.
  Client& client();
  /// A client of one endpoint only, for the verbs that report per endpoint.
  Client client_of(const std::string& endpoint) const;
  /// The etcd version of the member client() reaches ("3.5.16"), asked once; empty when it does
  /// not answer. Output that etcdctl 3.4 and 3.5 write differently follows it.
  const std::string& server_version();

 private:
  ClientOptions options(std::vector<std::string> endpoints) const;

  GlobalFlags flags_;
  Format format_ = Format::simple;
  std::chrono::milliseconds command_timeout_{5000};
  std::chrono::milliseconds dial_timeout_{2000};
  std::string username_;
  std::string password_;
  std::optional<Client> client_;
  std::optional<std::string> server_version_;
};

/// Turns an error of a call into etcdctl's text: etcd's own message for etcd's errors,
/// "context deadline exceeded" when no member answered in time, else etcdpp's message.
ExitError call_error(const std::system_error& e);

/// Runs a call of the Client, turning its error into an ExitError.
template <class F>
auto call(F&& f) {
  try {
    return f();
  } catch (const std::system_error& e) {
    throw call_error(e);
  }
}

/// etcdctl's refusal of a format a verb does not print in.
ExitError unsupported_format(Format f);

/// Parses an integer as Go's strconv.ParseInt does (base 0: with Go's prefixes and
/// underscores); on failure std::nullopt and its error text.
std::optional<std::int64_t> parse_int(const std::string& text, int base, std::string* error);

/// `text` as Go's strconv.Quote writes it ("%q" in etcdctl's messages).
std::string go_quote(std::string_view text);

}  // namespace etcdpp::cli
