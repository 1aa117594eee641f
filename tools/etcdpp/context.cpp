// SPDX-License-Identifier: Apache-2.0
#include <cctype>
#include <charconv>
#include <csignal>
#include <ctime>

#include "cli.hpp"
#include "commands.hpp"
#include "output.hpp"

namespace etcdpp::cli {

std::chrono::milliseconds parse_duration(std::string_view text, std::string_view flag) {
  const auto bad = [&] {
    return ExitError{exit_bad_args, "invalid argument \"" + std::string(text) + "\" for \"--" +
                                        std::string(flag) + "\" flag: time: invalid duration \"" +
                                        std::string(text) + "\""};
  };
  if (text.empty()) throw bad();
  if (text == "0") return std::chrono::milliseconds{0};
  double total_ms = 0;
  std::size_t i = 0;
  int terms = 0;
  while (i < text.size() && terms < 16) {
    ++terms;
    std::size_t j = i;
    while (j < text.size() &&
           (std::isdigit(static_cast<unsigned char>(text[j])) || text[j] == '.')) {
      ++j;
    }
    if (j == i) throw bad();
    double number = 0;
    try {
      number = std::stod(std::string(text.substr(i, j - i)));
    } catch (const std::exception&) {
      throw bad();
    }
    std::size_t k = j;
    while (k < text.size() && std::isalpha(static_cast<unsigned char>(text[k]))) ++k;
    const std::string_view unit = text.substr(j, k - j);
    double scale = 0;
    if (unit == "ns")
      scale = 1e-6;
    else if (unit == "us")
      scale = 1e-3;
    else if (unit == "ms")
      scale = 1;
    else if (unit == "s")
      scale = 1000;
    else if (unit == "m")
      scale = 60000;
    else if (unit == "h")
      scale = 3600000;
    else
      throw bad();
    total_ms += number * scale;
    i = k;
  }
  if (i != text.size()) throw bad();
  return std::chrono::milliseconds(static_cast<std::int64_t>(total_ms));
}

Context::Context(GlobalFlags flags) : flags_(std::move(flags)) {
  if (flags_.write_out == "simple") {
    format_ = Format::simple;
  } else if (flags_.write_out == "json") {
    format_ = Format::json;
  } else if (flags_.write_out == "table") {
    format_ = Format::table;
  } else if (flags_.write_out == "fields" || flags_.write_out == "protobuf") {
    throw ExitError{exit_bad_feature,
                    "output format \"" + flags_.write_out + "\" is not supported by etcdpp"};
  } else {
    throw ExitError{exit_bad_feature, "unknown output format \"" + flags_.write_out + "\""};
  }
  set_hex_output(flags_.hex);
  // --user name:password, or --user name with --password, or the password asked on the
  // terminal, as etcdctl takes them.
  if (!flags_.user.empty()) {
    const auto colon = flags_.user.find(':');
    if (!flags_.password.empty()) {
      if (colon != std::string::npos) {
        throw ExitError{exit_bad_args, "--user shouldn't include password when --password is set"};
      }
      username_ = flags_.user;
      password_ = flags_.password;
    } else if (colon != std::string::npos) {
      username_ = flags_.user.substr(0, colon);
      password_ = flags_.user.substr(colon + 1);
    } else {
      username_ = flags_.user;
      password_ = read_password("Password: ", true);
    }
  } else if (!flags_.password.empty()) {
    throw ExitError{exit_bad_args, "--password is given without --user"};
  }
  if (flags_.cert.empty() != flags_.key.empty()) {
    throw ExitError{exit_bad_args, "--cert and --key must be given together"};
  }
  command_timeout_ = parse_duration(flags_.command_timeout, "command-timeout");
  dial_timeout_ = parse_duration(flags_.dial_timeout, "dial-timeout");
  if (flags_.endpoints.empty()) throw ExitError{exit_bad_args, "no endpoint given"};
}

ClientOptions Context::options(std::vector<std::string> endpoints) const {
  ClientOptions o;
  o.endpoints = std::move(endpoints);
  o.username = username_;
  o.password = password_;
  o.tls.ca_file = flags_.cacert;
  o.tls.cert_file = flags_.cert;
  o.tls.key_file = flags_.key;
  // etcdctl's --dial-timeout=0 is no dial timeout of its own: connecting then takes at most
  // the command's time.
  o.connect_timeout = dial_timeout_.count() > 0 ? dial_timeout_ : command_timeout_;
  o.call_timeout = command_timeout_;
  return o;
}

Client& Context::client() {
  if (!client_) {
    try {
      client_.emplace(options(flags_.endpoints));
    } catch (const Error& e) {
      throw ExitError{exit_bad_connection, e.what()};
    }
  }
  return *client_;
}

const std::string& Context::server_version() {
  if (!server_version_) {
    try {
      server_version_ = client().maintenance().status().version;
    } catch (const std::system_error&) {
      server_version_.emplace();
    }
  }
  return *server_version_;
}

Client Context::client_of(const std::string& endpoint) const {
  try {
    return Client(options({endpoint}));
  } catch (const Error& e) {
    throw ExitError{exit_bad_connection, e.what()};
  }
}

ExitError call_error(const std::system_error& e) {
  const std::error_code ec = e.code();
  if (ec.category() == error_category()) {
    const auto value = static_cast<Errc>(ec.value());
    if (value == Errc::deadline_exceeded || value == Errc::unavailable) {
      return {exit_error, "context deadline exceeded"};
    }
    // etcdctl authenticates when it connects: wrong credentials are a bad connection to it.
    if (value == Errc::auth_failed) return {exit_bad_connection, ec.message()};
    // etcd's own errors read exactly as etcdctl prints them.
    if (ec.value() >= 100 && ec.value() < 200) return {exit_error, ec.message()};
  }
  return {exit_error, e.what()};
}

ExitError unsupported_format(Format f) {
  return {exit_bad_feature,
          std::string(f == Format::table ? "table" : "json") + " not supported as output format"};
}

void block_stop_signals() {
  sigset_t set;
  ::sigemptyset(&set);
  ::sigaddset(&set, SIGINT);
  ::sigaddset(&set, SIGTERM);
  ::sigaddset(&set, SIGUSR1);
  ::pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

int wait_for_signal(std::optional<std::chrono::milliseconds> timeout) {
  sigset_t set;
  ::sigemptyset(&set);
  ::sigaddset(&set, SIGINT);
  ::sigaddset(&set, SIGTERM);
  ::sigaddset(&set, SIGUSR1);
  if (!timeout) {
    int sig = 0;
    // sigwait fails only for an invalid set.
    return ::sigwait(&set, &sig) == 0 ? sig : SIGTERM;
  }
  const auto deadline = std::chrono::steady_clock::now() + *timeout;
  for (int attempt = 0; attempt < 1000; ++attempt) {
    const auto left = std::chrono::duration_cast<std::chrono::nanoseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return 0;
    timespec ts{static_cast<time_t>(left.count() / 1000000000),
                static_cast<long>(left.count() % 1000000000)};
    const int sig = ::sigtimedwait(&set, nullptr, &ts);
    if (sig > 0) return sig;
    if (errno == EAGAIN) return 0;
    // EINTR: an unblocked signal interrupted the wait; wait for what is left.
  }
  return 0;
}

void wake_waiter() { ::kill(::getpid(), SIGUSR1); }

}  // namespace etcdpp::cli
