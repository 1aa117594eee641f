// SPDX-License-Identifier: Apache-2.0
// `etcdpp txn` beside `etcdctl txn` on generated inputs: for each, both run on the same data of
// their own etcd, and must exit with the same code; where both succeed they print the same, and
// where both fail in the request or at the server they say the same. The inputs are drawn from
// a seeded generator around etcdctl's grammar, so that a failure names an input that can be
// run again.
//
// ETCDPP_TXN_FUZZ_CASES (default 200), ETCDPP_TXN_FUZZ_SEED (default 16) and
// ETCDPP_TXN_FUZZ_SECONDS (default 90, the most the test runs for) widen the run by hand;
// ETCDPP_TXN_FUZZ_VERBOSE=1 prints every input with both outcomes.
//
// Known differences, where etcdpp says what is wrong instead of doing what etcdctl 3.4 does:
// - etcdctl panics (exit 2) on every lease(...) compare, and on an unknown operator with a
//   valid value; etcdpp reads a lease compare's value as a lease ID in hex, as later etcdctl
//   versions do, and refuses an unknown operator (exit 3).
// - etcdctl waits forever after a help flag (-h, --help) or a help verb in an operation line;
//   etcdpp refuses the line (exit 3). The generator makes none of these.
// - etcdctl cuts a single-quoted word at a length that depends on the number of words of its
//   line (or panics); etcdpp takes the text between the quotes. The generator makes none.
// - get's --count-only, a flag of etcdctl 3.5, is taken in a txn too. The generator makes none.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <iostream>
#include <map>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "cli/cli_support.hpp"
#include "etcdpp/client.hpp"
#include "etcdpp/embedded/node.hpp"

namespace etcdpp {
namespace {

using namespace std::chrono_literals;
using clitest::Outcome;

std::uint64_t env_number(const char* name, std::uint64_t fallback) {
  const char* text = std::getenv(name);
  if (text == nullptr || *text == '\0') return fallback;
  return std::strtoull(text, nullptr, 10);
}

/// Inputs around etcdctl's txn grammar. Every input varies what etcdctl takes in more than
/// one way (blanks, quotes and escapes, flag forms and values, `--`, blank separator lines);
/// half of them also hold faults that etcdctl refuses (a missing blank line, a bad escape or
/// value, an unknown flag or verb, a single-dash flag), now and then.
class TxnInputs {
 public:
  explicit TxnInputs(std::uint64_t seed) : rng_(seed) {}

  struct Input {
    std::string text;
    bool json = false;
    bool interactive = false;
  };

  Input next() {
    Input in;
    faulty_ = chance(50);
    in.json = chance(15);
    in.interactive = chance(5);
    if (fault(6)) return in;  // no input at all
    std::string text;
    const auto part = [&](int most, bool compares) {
      const auto lines = below(static_cast<std::uint64_t>(most) + 1);
      for (std::uint64_t i = 0; i < lines; ++i) text += indent(compares ? compare() : op()) + "\n";
    };
    const auto separator = [&] {
      text += chance(10) ? pick<std::string>({" ", "\t", " \t ", "\r", "\xc2\xa0"}) + "\n" : "\n";
    };
    part(2, true);
    separator();
    part(3, false);
    separator();
    part(2, false);
    if (fault(10)) {
      if (chance(50) && !text.empty()) text.pop_back();  // the last line without its newline
    } else {
      separator();
      if (chance(3)) text += "put ignored after the end\n";
    }
    in.text = text;
    return in;
  }

 private:
  std::uint64_t below(std::uint64_t n) { return rng_() % n; }
  bool chance(int percent) { return below(100) < static_cast<std::uint64_t>(percent); }
  // A fault etcdctl refuses, in the inputs that may hold them.
  bool fault(int percent) { return faulty_ && chance(percent); }
  template <class T>
  T pick(const std::vector<T>& from) {
    return from[below(from.size())];
  }

  std::string indent(std::string line) {
    if (chance(8)) line = pick<std::string>({" ", "  ", "\t", " \t"}) + line;
    if (chance(8)) line += pick<std::string>({" ", "\t", "\r", " \r"});
    return line;
  }

  // A word as an operation line writes it: bare, or now and then double-quoted with escapes.
  std::string word(const std::string& text) {
    const bool must_quote = text.empty() || text.find(' ') != std::string::npos;
    if (!must_quote && !chance(10)) return text;
    std::string out = "\"";
    for (const char c : text) {
      if (c == '"' || c == '\\') out += '\\';
      out += c;
    }
    if (chance(15)) {
      out += pick<std::string>({"\\t", "\\\"", "\\\\", "\\x41", "\\u00e9", "\\101", "\\U0001F600"});
    }
    if (fault(10)) out += pick<std::string>({"\\q", "\\400", "\\'", "\\x4"});
    return out + "\"";
  }

  std::string key() {
    if (chance(3)) return word("");
    if (chance(3)) return word("k\xc3\xa9");
    if (fault(5)) return "-a";  // a flag to pflag
    return word(pick<std::string>({"a", "b", "c", "d", "a b"}));
  }

  std::string value() {
    if (fault(8)) return pick<std::string>({"\"v w", "-v"});  // an open quote; a flag to pflag
    return word(pick<std::string>({"1", "two", "three 3", "x", "", "v\"q"}));
  }

  // A compare string as %q reads it: double- or back-quoted.
  std::string compare_quoted(const std::string& text) {
    if (fault(8)) return chance(50) ? text : "\"" + text;
    if (chance(12)) return "`" + text + "`";
    return "\"" + text + (chance(5) ? "\\t" : "") + "\"";
  }

  std::string compare() {
    std::string target =
        pick<std::string>({"val", "value", "ver", "version", "c", "create", "m", "mod"});
    if (chance(3)) target = "lease";  // etcdctl 3.4 panics: a known difference
    if (fault(8)) target = pick<std::string>({"bogus", "", "val "});
    const bool numeric = target != "val" && target != "value";
    std::string value_text;
    if (target == "lease") {
      value_text = pick<std::string>({"0", "1f", "zz"});
    } else if (numeric) {
      value_text = fault(20) ? pick<std::string>({"x", "0x1", "+-1", "1_0", ""})
                             : pick<std::string>({"0", "1", "999999999", "-1", "+1"});
    } else {
      value_text = pick<std::string>({"1", "two", "three 3", "", "x"});
    }
    const std::string op =
        fault(5) ? pick<std::string>({"==", "=>"}) : pick<std::string>({"=", "!=", "<", ">"});
    const auto space = [&] {
      if (fault(5)) return std::string();  // fmt wants a space there
      return chance(90) ? std::string(" ") : pick<std::string>({"  ", "\t", "\xc2\xa0"});
    };
    std::string line = target + "(" + (chance(3) ? " " : "") +
                       compare_quoted(chance(4) ? pick<std::string>({"", "k\xc3\xa9"})
                                                : pick<std::string>({"a", "b", "c", "d"})) +
                       ")" + space() + op + space() + compare_quoted(value_text);
    if (chance(3)) line += " trailing words";
    return line;
  }

  std::string flag(const std::string& name, const std::vector<std::string>& values,
                   const std::vector<std::string>& bad_values, bool boolean) {
    if (fault(8)) return pick<std::string>({"-", "---"}) + name;  // shorthands; bad syntax
    const auto roll = below(100);
    if (boolean) {
      if (roll < 60) return "--" + name;
      const std::string v = fault(20) ? pick<std::string>({"yes", "", "2"})
                                      : pick<std::string>({"true", "false", "1", "0", "T", "f"});
      // A bool takes no value word: `--prefix false` is the flag, then an argument.
      return roll < 90 ? "--" + name + "=" + v : "--" + name + " " + word(v);
    }
    if (fault(5)) return "--" + name;  // its value is the next word, whatever it is
    const std::string v = fault(20) && !bad_values.empty() ? pick(bad_values) : pick(values);
    return roll < 50 ? "--" + name + "=" + v : "--" + name + " " + word(v);
  }

  std::string op() {
    std::string verb = pick<std::string>({"put", "get", "del"});
    if (fault(5)) verb = pick<std::string>({"foo", "Put"});
    std::vector<std::string> args;
    std::vector<std::string> flags;
    const std::vector<std::string> ints = {"0", "1", "2", "-1", "0x2", "010", "1_0", "+1"};
    const std::vector<std::string> bad_ints = {"08", "z", "99999999999999999999", "1__0", ""};
    // A range end, or a value for --ignore-value, only where etcdctl takes one, but in faults.
    bool ranged = false;
    if (verb == "get") {
      const auto n = below(3);
      for (std::uint64_t i = 0; i < n; ++i) {
        switch (below(9)) {
          case 0:
            flags.push_back(flag("prefix", {}, {}, true));
            ranged = true;
            break;
          case 1:
            flags.push_back(flag("from-key", {}, {}, true));
            ranged = true;
            break;
          case 2:
            flags.push_back(flag("keys-only", {}, {}, true));
            break;
          case 3:
            flags.push_back(flag("print-value-only", {}, {}, true));
            break;
          case 4:
            flags.push_back(flag("limit", ints, bad_ints, false));
            break;
          case 5:
            flags.push_back(flag("rev", {"0", "1", "-1", "999999999"}, {"x"}, false));
            break;
          case 6:
            flags.push_back(flag("sort-by", {"KEY", "value", "CREATE", "MODIFY", "VERSION", ""},
                                 {"size"}, false));
            break;
          case 7:
            flags.push_back(flag("order", {"ASCEND", "descend", ""}, {"up"}, false));
            break;
          default:
            flags.push_back(flag("consistency", {"l", "s"}, {"x", ""}, false));
        }
      }
      args.push_back(key());
      if (ranged ? fault(20) : chance(20)) args.push_back(key());
      if (chance(3)) args.push_back(key());  // etcdctl ignores it
    } else if (verb == "put") {
      const auto n = below(3);
      for (std::uint64_t i = 0; i < n; ++i) {
        switch (below(3)) {
          case 0:
            flags.push_back(flag("ignore-lease", {}, {}, true));
            break;
          case 1:
            flags.push_back(flag("lease", {"0", "1f"}, {"zz", ""}, false));
            break;
          default:
            flags.push_back(flag("prev-kv", {}, {}, true));
        }
      }
      const bool ignore_value = chance(8);
      if (ignore_value) flags.push_back("--ignore-value");
      args.push_back(key());
      if (ignore_value ? fault(30) : !fault(10)) args.push_back(value());
      if (chance(3)) args.push_back(value());  // etcdctl ignores it
    } else {
      const auto n = below(3);
      for (std::uint64_t i = 0; i < n; ++i) {
        switch (below(3)) {
          case 0:
            flags.push_back(flag("prefix", {}, {}, true));
            ranged = true;
            break;
          case 1:
            flags.push_back(flag("from-key", {}, {}, true));
            ranged = true;
            break;
          default:
            flags.push_back(flag("prev-kv", {}, {}, true));
        }
      }
      args.push_back(key());
      if (ranged ? fault(20) : chance(15)) args.push_back(key());
      if (fault(5)) args.push_back(key());
    }
    // Flags anywhere among the words, as pflag takes them; now and then `--` before the last
    // word, after which a word starting with '-' is an argument.
    std::vector<std::string> words = args;
    for (const auto& f : flags) {
      words.insert(words.begin() + static_cast<std::ptrdiff_t>(below(words.size() + 1)), f);
    }
    if (chance(6)) words.insert(words.end() - 1, "--");
    if (chance(3)) words.insert(words.end() - 1, pick<std::string>({"-- -v", "-- --prev-kv"}));
    std::string line = verb;
    if (chance(3)) line = (verb == "get" ? "--keys-only=true " : "--prev-kv=true ") + verb;
    for (const auto& w : words) line += (chance(95) ? " " : "\t") + w;
    return line;
  }

  std::mt19937_64 rng_;
  bool faulty_ = false;
};

std::string printable(const std::string& s) {
  std::ostringstream out;
  for (const unsigned char c : s) {
    if (c == '\n') {
      out << "\\n";
    } else if (c == '\\') {
      out << "\\\\";
    } else if (c < 0x20 || c >= 0x7f) {
      static constexpr char kHex[] = "0123456789abcdef";
      out << "\\x" << kHex[c >> 4] << kHex[c & 0xf];
    } else {
      out << c;
    }
  }
  return out.str();
}

std::string describe(const Outcome& o) {
  return "exit " + std::to_string(o.exit_code) + (o.timed_out ? " (timed out)" : "") +
         "\n    stdout: " + printable(o.out) +
         "\n    errors: " + printable(clitest::error_lines(o.err));
}

TEST(CliTxnFuzzTest, EtcdppReadsGeneratedTxnInputsAsEtcdctlDoes) {
  const std::uint64_t cases = env_number("ETCDPP_TXN_FUZZ_CASES", 200);
  const std::uint64_t seed = env_number("ETCDPP_TXN_FUZZ_SEED", 16);
  const auto budget = std::chrono::seconds(env_number("ETCDPP_TXN_FUZZ_SECONDS", 90));
  const auto deadline = std::chrono::steady_clock::now() + budget;
  const bool verbose = env_number("ETCDPP_TXN_FUZZ_VERBOSE", 0) != 0;

  // A node of its own: the operations range over every key ("" with --prefix or --from-key).
  embedded::Node node;
  Client client({.endpoints = {node.client_endpoint()}});
  const std::string endpoint = "--endpoints=" + node.client_endpoint();
  const auto reset = [&] {
    client.delete_range("", {.from_key = true});
    client.put("a", "1");
    client.put("b", "two");
    client.put("c", "three 3");
  };

  TxnInputs inputs(seed);
  std::uint64_t ran = 0;
  std::uint64_t both_succeeded = 0;
  std::uint64_t etcdctl_panicked = 0;
  std::vector<std::string> mismatches;
  std::map<int, int> exits;  // etcdctl's exit codes, -1 for a timeout
  for (; ran < cases && std::chrono::steady_clock::now() < deadline; ++ran) {
    const TxnInputs::Input in = inputs.next();
    const auto command = [&](const std::string& tool) {
      std::vector<std::string> argv{tool, endpoint, "txn"};
      if (in.json) argv.insert(argv.end(), {"-w", "json"});
      if (in.interactive) argv.push_back("-i");
      return argv;
    };
    reset();
    const Outcome want = clitest::run(command(clitest::etcdctl_path()), in.text, 5s, true);
    reset();
    const Outcome got = clitest::run(command(ETCDPP_CLI_BINARY), in.text, 5s, true);

    ++exits[want.timed_out ? -1 : want.exit_code];
    std::string why;
    if (want.exit_code == 2 && want.err.find("panic:") != std::string::npos) {
      // etcdctl's panics (lease compares, unknown operators): etcdpp runs the compare or says
      // what is wrong.
      ++etcdctl_panicked;
      if (got.timed_out || (got.exit_code != 0 && clitest::error_lines(got.err).empty())) {
        why = "etcdctl panicked; etcdpp neither ran it nor gave an error";
      }
    } else if (want.timed_out) {
      if (got.exit_code != 3) why = "etcdctl hung; etcdpp did not refuse it with exit 3";
    } else if (got.exit_code != want.exit_code) {
      why = "exit codes differ";
    } else if (want.exit_code == 0) {
      ++both_succeeded;
      if (clitest::masked(got.out) != clitest::masked(want.out)) why = "outputs differ";
    } else if (want.exit_code != 3 &&
               clitest::error_lines(got.err) != clitest::error_lines(want.err)) {
      // Exit 3 is etcdctl's "invalid input", whose words are cobra's usage; the others are
      // etcdctl's own messages and etcd's errors, which etcdpp writes alike.
      why = "errors differ";
    }
    if (verbose) {
      std::cout << "case " << ran << ": " << printable(in.text) << "\n  etcdctl: " << describe(want)
                << "\n  etcdpp:  " << describe(got) << "\n";
    }
    if (!why.empty() && mismatches.size() < 20) {
      mismatches.push_back("case " + std::to_string(ran) + ": " + why +
                           (in.json ? " (-w json)" : "") + (in.interactive ? " (-i)" : "") +
                           "\n  input: " + printable(in.text) + "\n  etcdctl: " + describe(want) +
                           "\n  etcdpp:  " + describe(got));
    } else if (!why.empty()) {
      mismatches.push_back("");
    }
  }
  std::cout << "txn fuzz (seed " << seed << "): " << ran << " inputs, " << both_succeeded
            << " accepted by both, " << etcdctl_panicked << " etcdctl panics, " << mismatches.size()
            << " mismatches; etcdctl's exit codes:";
  for (const auto& [code, count] : exits) std::cout << " " << code << "x" << count;
  std::cout << "\n";
  // The deadline is a bound, not a target: most of the inputs must have run.
  EXPECT_GE(ran * 2, cases) << "ran out of time";
  for (const auto& m : mismatches) {
    if (!m.empty()) ADD_FAILURE() << m;
  }
  EXPECT_TRUE(mismatches.empty()) << mismatches.size() << " inputs differ (seed " << seed << ")";
}

}  // namespace
}  // namespace etcdpp
