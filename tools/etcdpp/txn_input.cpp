// SPDX-License-Identifier: Apache-2.0
// etcdctl's txn input, read as etcdctl 3.4 reads it, so that a script written for `etcdctl txn`
// means the same to `etcdpp txn`: three parts (compares, success requests, failure requests),
// each ended by a blank line; a compare read as Go's fmt.Sscanf("%q) %s %q") reads it; an
// operation line split into words as etcdctl's argify splits it and its flags parsed as cobra and
// pflag parse a command line. What etcdctl refuses is refused with its exit code. Where etcdctl
// panics (a lease compare, an unknown operator) or waits forever (a help flag), etcdpp says what
// is wrong instead.
#include <algorithm>
#include <array>
#include <iostream>
#include <string_view>

#include "commands.hpp"

namespace etcdpp::cli {
namespace {

// ---- UTF-8 and spaces, as Go's unicode, strings and fmt packages see them ----

constexpr char32_t kRuneError = 0xFFFD;

// The rune at s[i] and its length, as Go's utf8.DecodeRune reads it: an invalid or truncated
// sequence is U+FFFD of length 1.
std::pair<char32_t, std::size_t> decode_rune(std::string_view s, std::size_t i) {
  const auto b0 = static_cast<unsigned char>(s[i]);
  if (b0 < 0x80) return {b0, 1};
  std::size_t n = 0;
  char32_t r = 0;
  char32_t min = 0;
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    n = 2, r = b0 & 0x1Fu, min = 0x80;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    n = 3, r = b0 & 0x0Fu, min = 0x800;
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    n = 4, r = b0 & 0x07u, min = 0x10000;
  } else {
    return {kRuneError, 1};
  }
  if (i + n > s.size()) return {kRuneError, 1};
  for (std::size_t k = 1; k < n; ++k) {
    const auto b = static_cast<unsigned char>(s[i + k]);
    if ((b & 0xC0) != 0x80) return {kRuneError, 1};
    r = (r << 6) | (b & 0x3Fu);
  }
  if (r < min || r > 0x10FFFF || (r >= 0xD800 && r <= 0xDFFF)) return {kRuneError, 1};
  return {r, n};
}

void append_rune(std::string& out, char32_t r) {
  if (r < 0x80) {
    out += static_cast<char>(r);
  } else if (r < 0x800) {
    out += static_cast<char>(0xC0 | (r >> 6));
    out += static_cast<char>(0x80 | (r & 0x3F));
  } else if (r < 0x10000) {
    out += static_cast<char>(0xE0 | (r >> 12));
    out += static_cast<char>(0x80 | ((r >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (r & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (r >> 18));
    out += static_cast<char>(0x80 | ((r >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((r >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (r & 0x3F));
  }
}

// unicode.IsSpace, which strings.TrimSpace and fmt's scanning use (the same set).
bool is_go_space(char32_t r) {
  return (r >= 0x09 && r <= 0x0D) || r == 0x20 || r == 0x85 || r == 0xA0 || r == 0x1680 ||
         (r >= 0x2000 && r <= 0x200A) || r == 0x2028 || r == 0x2029 || r == 0x202F || r == 0x205F ||
         r == 0x3000;
}

// RE2's \s, on which etcdctl's argify splits words: ASCII only, and not \v.
bool is_re2_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\f' || c == '\r'; }

// strings.TrimSpace.
std::string_view trim_space(std::string_view s) {
  std::size_t begin = std::string_view::npos;
  std::size_t end = 0;
  for (std::size_t i = 0; i < s.size();) {
    const auto [r, n] = decode_rune(s, i);
    if (!is_go_space(r)) {
      if (begin == std::string_view::npos) begin = i;
      end = i + n;
    }
    i += n;
  }
  return begin == std::string_view::npos ? std::string_view{} : s.substr(begin, end - begin);
}

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// strconv.Unquote of a double-quoted Go string, given without its quotes. fmt has already read
// it rune by rune, so an invalid UTF-8 byte arrives here as U+FFFD.
std::optional<std::string> go_unquote(std::string_view body) {
  std::string out;
  for (std::size_t i = 0; i < body.size();) {
    const char c = body[i];
    if (c == '"' || c == '\n') return std::nullopt;
    if (c != '\\') {
      out += c;
      ++i;
      continue;
    }
    if (++i >= body.size()) return std::nullopt;
    const char e = body[i++];
    switch (e) {
      case 'a':
        out += '\a';
        break;
      case 'b':
        out += '\b';
        break;
      case 'f':
        out += '\f';
        break;
      case 'n':
        out += '\n';
        break;
      case 'r':
        out += '\r';
        break;
      case 't':
        out += '\t';
        break;
      case 'v':
        out += '\v';
        break;
      case '\\':
        out += '\\';
        break;
      case '"':
        out += '"';
        break;
      case 'x':
      case 'u':
      case 'U': {
        const std::size_t digits = e == 'x' ? 2 : e == 'u' ? 4 : 8;
        if (i + digits > body.size()) return std::nullopt;
        char32_t v = 0;
        for (std::size_t k = 0; k < digits; ++k) {
          const int d = hex_digit(body[i + k]);
          if (d < 0) return std::nullopt;
          v = (v << 4) | static_cast<char32_t>(d);
        }
        i += digits;
        if (e == 'x') {
          out += static_cast<char>(v);  // a byte, not a rune
        } else {
          if (v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF)) return std::nullopt;
          append_rune(out, v);
        }
        break;
      }
      case '0':
      case '1':
      case '2':
      case '3':
      case '4':
      case '5':
      case '6':
      case '7': {
        unsigned v = static_cast<unsigned>(e - '0');
        if (i + 2 > body.size()) return std::nullopt;
        for (std::size_t k = 0; k < 2; ++k) {
          const char d = body[i + k];
          if (d < '0' || d > '7') return std::nullopt;
          v = v * 8 + static_cast<unsigned>(d - '0');
        }
        i += 2;
        if (v > 255) return std::nullopt;
        out += static_cast<char>(v);
        break;
      }
      default:
        return std::nullopt;  // \' included: it is not an escape in a double-quoted string
    }
  }
  return out;
}

// strconv.ParseBool.
std::optional<bool> go_parse_bool(std::string_view v) {
  if (v == "1" || v == "t" || v == "T" || v == "TRUE" || v == "true" || v == "True") return true;
  if (v == "0" || v == "f" || v == "F" || v == "FALSE" || v == "false" || v == "False") {
    return false;
  }
  return std::nullopt;
}

// ---- compares ----

// Go's fmt scanning over a compare after its "target(": the verbs %q and %s and the format's
// spaces and literals, each consuming what fmt would.
class CompareScanner {
 public:
  explicit CompareScanner(std::string_view s) : s_(s) {}

  // %q: a double-quoted string with Go's escapes, or a back-quoted raw one.
  std::optional<std::string> quoted() {
    skip_spaces();
    if (at_end()) return std::nullopt;
    const char quote = s_[pos_];
    if (quote != '"' && quote != '`') return std::nullopt;
    ++pos_;
    std::string text;
    for (;;) {
      if (at_end()) return std::nullopt;
      const char32_t r = next_rune();
      if (quote == '`') {
        if (r == '`') return text;
        append_rune(text, r);
        continue;
      }
      if (r == '"') return go_unquote(text);
      append_rune(text, r);
      if (r == '\\') {
        // Only the rune right after a backslash can be a backslash or a quote.
        if (at_end()) return std::nullopt;
        append_rune(text, next_rune());
      }
    }
  }

  // %s: the next run of non-spaces.
  std::optional<std::string> word() {
    skip_spaces();
    if (at_end()) return std::nullopt;
    std::string text;
    while (!at_end()) {
      const auto [r, n] = decode_rune(s_, pos_);
      if (is_go_space(r)) break;
      append_rune(text, r);
      pos_ += n;
    }
    return text;
  }

  // A literal of the format: the very next rune.
  bool literal(char c) {
    if (at_end() || s_[pos_] != c) return false;
    ++pos_;
    return true;
  }

  // A space of the format: one or more spaces, or the end of the input.
  bool spaces() {
    if (at_end()) return true;
    if (!is_go_space(decode_rune(s_, pos_).first)) return false;
    skip_spaces();
    return true;
  }

 private:
  bool at_end() const { return pos_ >= s_.size(); }
  char32_t next_rune() {
    const auto [r, n] = decode_rune(s_, pos_);
    pos_ += n;
    return r;
  }
  void skip_spaces() {
    while (!at_end()) {
      const auto [r, n] = decode_rune(s_, pos_);
      if (!is_go_space(r)) return;
      pos_ += n;
    }
  }

  std::string_view s_;
  std::size_t pos_ = 0;
};

// etcdctl's compare line: target("key") op "value", target one of ver(sion), c(reate), m(od),
// val(ue), lease; op one of =, !=, <, >.
Compare parse_compare(const std::string& line) {
  const auto malformed = [&](const std::string& why) {
    return ExitError{exit_invalid_input, "malformed comparison: " + line + why};
  };
  const std::size_t paren = line.find('(');
  if (paren == std::string::npos) throw malformed("");
  const std::string target = line.substr(0, paren);
  CompareScanner scan(std::string_view(line).substr(paren + 1));
  const auto key = scan.quoted();
  if (!key || !scan.literal(')')) throw malformed(" (expected (\"key\"))");
  std::optional<std::string> op;
  std::optional<std::string> value;
  if (scan.spaces()) op = scan.word();
  if (!op) throw malformed(" (expected an operator after the key)");
  if (scan.spaces()) value = scan.quoted();
  if (!value) throw malformed(" (expected a quoted value after the operator)");

  const bool is_number = target == "ver" || target == "version" || target == "c" ||
                         target == "create" || target == "m" || target == "mod";
  if (!is_number && target != "val" && target != "value" && target != "lease") {
    throw malformed(" (unknown target " + target + ")");
  }
  Compare c;
  c.key = *key;
  std::string error;
  if (is_number) {
    // etcdctl reads the number before it looks at the operator.
    const auto n = parse_int(*value, 10, &error);
    if (!n) throw ExitError{exit_invalid_input, "invalid txn compare request: " + line};
    c.number = *n;
  } else if (target == "lease") {
    // etcdctl 3.4 panics on every lease compare; later versions read a lease ID in hex, as
    // every other etcdctl command takes it.
    const auto n = parse_int(*value, 16, &error);
    if (!n) {
      throw ExitError{exit_invalid_input, "invalid txn compare request: " + line +
                                              " (a lease compare takes a lease ID in hex)"};
    }
    c.number = *n;
  } else {
    c.bytes = *value;
  }
  if (*op == "=") {
    c.result = Compare::Result::equal;
  } else if (*op == "!=") {
    c.result = Compare::Result::not_equal;
  } else if (*op == "<") {
    c.result = Compare::Result::less;
  } else if (*op == ">") {
    c.result = Compare::Result::greater;
  } else {
    // etcdctl panics here.
    throw malformed(" (unknown operator " + *op + ")");
  }
  if (target == "ver" || target == "version") {
    c.target = Compare::Target::version;
  } else if (target == "c" || target == "create") {
    c.target = Compare::Target::create_revision;
  } else if (target == "m" || target == "mod") {
    c.target = Compare::Target::mod_revision;
  } else if (target == "lease") {
    c.target = Compare::Target::lease;
  } else {
    c.target = Compare::Target::value;
  }
  return c;
}

// ---- operations ----

// What pflag does with a flag's value.
enum class FlagKind { boolean, integer, text };

struct FlagSpec {
  std::string_view name;
  FlagKind kind;
};

// The flags of etcdctl 3.4's put, get and del (with etcdctl 3.5's --count-only, which etcdpp's
// get takes), plus the help flag cobra adds to each.
constexpr std::array kPutFlags{
    FlagSpec{"lease", FlagKind::text}, FlagSpec{"prev-kv", FlagKind::boolean},
    FlagSpec{"ignore-value", FlagKind::boolean}, FlagSpec{"ignore-lease", FlagKind::boolean},
    FlagSpec{"help", FlagKind::boolean}};
constexpr std::array kGetFlags{
    FlagSpec{"consistency", FlagKind::text},   FlagSpec{"order", FlagKind::text},
    FlagSpec{"sort-by", FlagKind::text},       FlagSpec{"limit", FlagKind::integer},
    FlagSpec{"prefix", FlagKind::boolean},     FlagSpec{"from-key", FlagKind::boolean},
    FlagSpec{"rev", FlagKind::integer},        FlagSpec{"keys-only", FlagKind::boolean},
    FlagSpec{"count-only", FlagKind::boolean}, FlagSpec{"print-value-only", FlagKind::boolean},
    FlagSpec{"help", FlagKind::boolean}};
constexpr std::array kDelFlags{
    FlagSpec{"prefix", FlagKind::boolean}, FlagSpec{"prev-kv", FlagKind::boolean},
    FlagSpec{"from-key", FlagKind::boolean}, FlagSpec{"help", FlagKind::boolean}};

// One flag as given, its value checked as pflag checks it.
struct FlagValue {
  std::string_view name;
  bool boolean = false;
  std::int64_t integer = 0;
  std::string text;
};

struct ParsedLine {
  std::vector<std::string> args;
  std::vector<FlagValue> flags;  // in order: the last of a name wins
  bool help = false;
};

// Parses the words after the verb as pflag does (flags anywhere, `--` ends them); std::nullopt
// where pflag fails, which etcdctl reports as "invalid txn request".
template <std::size_t N>
std::optional<ParsedLine> parse_flags(const std::vector<std::string>& words,
                                      const std::array<FlagSpec, N>& specs) {
  ParsedLine out;
  const auto set = [&](const FlagSpec& spec, std::string_view value) {
    FlagValue v{spec.name, false, 0, {}};
    if (spec.kind == FlagKind::boolean) {
      const auto b = go_parse_bool(value);
      if (!b) return false;
      v.boolean = *b;
      if (spec.name == "help") out.help = *b;
    } else if (spec.kind == FlagKind::integer) {
      std::string error;
      const auto n = parse_int(std::string(value), 0, &error);
      if (!n) return false;
      v.integer = *n;
    } else {
      v.text = std::string(value);
    }
    out.flags.push_back(std::move(v));
    return true;
  };
  for (std::size_t i = 0; i < words.size(); ++i) {
    const std::string& w = words[i];
    if (w.size() < 2 || w[0] != '-') {
      out.args.push_back(w);
      continue;
    }
    if (w == "--") {
      out.args.insert(out.args.end(), words.begin() + static_cast<std::ptrdiff_t>(i) + 1,
                      words.end());
      break;
    }
    if (w[1] != '-') {
      // Shorthands: only cobra's -h exists, alone or as -h=value.
      if (w[1] != 'h') return std::nullopt;
      if (w.size() == 2) {
        out.help = true;
        continue;
      }
      if (w[2] == '=' && set(specs.back(), std::string_view(w).substr(3))) continue;
      if (w.find_first_not_of('h', 1) == std::string::npos) {
        out.help = true;
        continue;
      }
      return std::nullopt;
    }
    const std::string_view body = std::string_view(w).substr(2);
    if (body.front() == '-' || body.front() == '=') return std::nullopt;  // bad flag syntax
    const std::size_t eq = body.find('=');
    const std::string_view name = body.substr(0, eq);
    const FlagSpec* spec = nullptr;
    for (const auto& s : specs) {
      if (s.name == name) spec = &s;
    }
    if (spec == nullptr) return std::nullopt;  // unknown flag
    if (eq != std::string_view::npos) {
      if (!set(*spec, body.substr(eq + 1))) return std::nullopt;
    } else if (spec->kind == FlagKind::boolean) {
      set(*spec, "true");
    } else if (i + 1 < words.size()) {
      // Whatever follows, as pflag takes it: `--rev -1` is the revision -1.
      if (!set(*spec, words[++i])) return std::nullopt;
    } else {
      return std::nullopt;  // flag needs an argument
    }
  }
  return out;
}

// The index of the verb, found as cobra finds a subcommand: the first word that is neither a
// flag nor the word after a flag that has no "=" (cobra cannot tell which flags take a value
// before it knows the command, so it takes every such flag to take one).
std::optional<std::size_t> find_verb(const std::vector<std::string>& words) {
  for (std::size_t i = 0; i < words.size();) {
    const std::string& w = words[i++];
    if (w == "--") return std::nullopt;
    const bool long_flag = w.starts_with("--");
    const bool short_flag = w.size() == 2 && w[0] == '-';
    if ((long_flag || short_flag) && w.find('=') == std::string::npos) {
      if (words.size() - i <= 1) return std::nullopt;
      ++i;
      continue;
    }
    if (!w.empty() && w[0] != '-') return i - 1;
  }
  return std::nullopt;
}

// An operation line: put, get or del with their flags, as etcdctl's txn reads it.
Op parse_op(const std::string& line) {
  const std::vector<std::string> words = split_words(line);
  const auto invalid = [&](const std::string& why) {
    return ExitError{exit_invalid_input, "invalid txn request: " + line + why};
  };
  if (words.size() < 2) throw ExitError{exit_invalid_input, "invalid txn compare request: " + line};
  const auto verb_at = find_verb(words);
  if (!verb_at) throw invalid(" (no get, put or del)");
  const std::string verb = words[*verb_at];
  if (verb != "put" && verb != "get" && verb != "del") {
    throw invalid(" (unknown request " + verb + "; expected get, put or del)");
  }
  // cobra drops the first word equal to the verb's name, wherever it is.
  std::vector<std::string> rest = words;
  rest.erase(std::find(rest.begin(), rest.end(), verb));

  const auto parsed = verb == "put"   ? parse_flags(rest, kPutFlags)
                      : verb == "get" ? parse_flags(rest, kGetFlags)
                                      : parse_flags(rest, kDelFlags);
  if (!parsed) throw invalid("");
  // etcdctl prints the verb's help and then waits forever for the operation.
  if (parsed->help) throw invalid(" (help is not an operation)");

  if (verb == "get") {
    GetArgs a;
    a.args = parsed->args;
    for (const FlagValue& f : parsed->flags) {
      if (f.name == "prefix") a.prefix = f.boolean;
      if (f.name == "from-key") a.from_key = f.boolean;
      if (f.name == "keys-only") a.keys_only = f.boolean;
      if (f.name == "count-only") a.count_only = f.boolean;
      if (f.name == "print-value-only") a.print_value_only = f.boolean;  // no effect in a txn
      if (f.name == "limit") a.limit = f.integer;
      if (f.name == "rev") a.rev = f.integer;
      if (f.name == "sort-by") a.sort_by = f.text;
      if (f.name == "order") a.order = f.text;
      if (f.name == "consistency") a.consistency = f.text;
    }
    auto [key, options] = get_request(a);
    return Op::get(key, options);
  }
  if (verb == "put") {
    PutArgs a;
    a.args = parsed->args;
    for (const FlagValue& f : parsed->flags) {
      if (f.name == "prev-kv") a.prev_kv = f.boolean;
      if (f.name == "ignore-value") a.ignore_value = f.boolean;
      if (f.name == "ignore-lease") a.ignore_lease = f.boolean;
      if (f.name == "lease") a.lease = f.text;
    }
    // No value from stdin here: stdin is the transaction.
    PutRequest p = put_request(a, nullptr);
    return Op::put(p.key, p.value, p.options);
  }
  DelArgs a;
  a.args = parsed->args;
  for (const FlagValue& f : parsed->flags) {
    if (f.name == "prefix") a.prefix = f.boolean;
    if (f.name == "from-key") a.from_key = f.boolean;
    if (f.name == "prev-kv") a.prev_kv = f.boolean;
  }
  auto [key, options] = delete_request(a);
  return Op::delete_range(key, options);
}

// Reads the txn input line by line, each parsed as soon as it is read, as etcdctl does: the
// first bad line is the one reported, and nothing is sent.
class TxnReader {
 public:
  TxnReader(std::istream& in, bool interactive) : in_(in), interactive_(interactive) {}

  // The lines of one part up to its blank line (a line of blanks is one), trimmed.
  template <class F>
  void read_part(const char* prompt, const char* part, F&& on_line) {
    if (interactive_) std::cout << prompt << '\n' << std::flush;
    // etcd takes 128 operations by default (--max-txn-ops): a hundred thousand lines are far
    // beyond any transaction it accepts.
    for (int n = 0; n < 100000; ++n) {
      std::string line;
      // The end of the input before the blank line is an error even after a last line without
      // its newline: etcdctl reads up to '\n' and stops at io.EOF.
      if (!std::getline(in_, line) || in_.eof()) {
        throw ExitError{exit_invalid_input,
                        std::string("EOF: the input ended before the blank line that ends the ") +
                            part +
                            " (compares, success requests and failure requests each end with "
                            "a blank line)"};
      }
      const std::string trimmed(trim_space(line));
      if (trimmed.empty()) return;
      on_line(trimmed);
    }
    throw ExitError{exit_invalid_input, std::string("too many lines in the ") + part};
  }

 private:
  std::istream& in_;
  bool interactive_;
};

}  // namespace

std::string go_quote(std::string_view text) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out = "\"";
  const auto hex = [&](char32_t v, int digits) {
    for (int d = digits - 1; d >= 0; --d) out += kHex[(v >> (4 * d)) & 0xF];
  };
  for (std::size_t i = 0; i < text.size();) {
    const auto [r, n] = decode_rune(text, i);
    if (r == kRuneError && n == 1) {
      out += "\\x";
      hex(static_cast<unsigned char>(text[i]), 2);
    } else if (r == '"' || r == '\\') {
      out += '\\';
      out += static_cast<char>(r);
    } else if ((r >= 0x20 && r < 0x7F) || (r >= 0xA0 && r != 0xAD)) {
      out.append(text.substr(i, n));  // printable, near enough to unicode.IsPrint
    } else if (r == '\a') {
      out += "\\a";
    } else if (r == '\b') {
      out += "\\b";
    } else if (r == '\f') {
      out += "\\f";
    } else if (r == '\n') {
      out += "\\n";
    } else if (r == '\r') {
      out += "\\r";
    } else if (r == '\t') {
      out += "\\t";
    } else if (r == '\v') {
      out += "\\v";
    } else if (r < 0x80) {
      out += "\\x";
      hex(r, 2);
    } else {
      out += "\\u";
      hex(r, 4);
    }
    i += n;
  }
  out += '"';
  return out;
}

std::vector<std::string> split_words(const std::string& line) {
  // etcdctl's argify: the regular expression "(?:[^"\\]|\\.)*"|'[^']*'|[^'"\s]\S*[^'"\s]?,
  // each match a word. A quote that opens no match is skipped.
  std::vector<std::string> words;
  std::size_t i = 0;
  while (i < line.size()) {
    const char c = line[i];
    if (c == '"') {
      std::size_t j = i + 1;
      while (j < line.size() && line[j] != '"') j += line[j] == '\\' && j + 1 < line.size() ? 2 : 1;
      if (j < line.size()) {
        // As fmt.Sscanf("%q") takes it: rune by rune, then strconv.Unquote.
        std::string body;
        const std::string_view inner = std::string_view(line).substr(i + 1, j - i - 1);
        for (std::size_t k = 0; k < inner.size();) {
          const auto [r, n] = decode_rune(inner, k);
          append_rune(body, r);
          k += n;
        }
        auto word = go_unquote(body);
        if (!word) {
          throw ExitError{exit_invalid_input,
                          "invalid syntax: " + line.substr(i, j - i + 1) +
                              " is not a valid Go string (see the escapes of Go's string "
                              "literals)"};
        }
        words.push_back(std::move(*word));
        i = j + 1;
        continue;
      }
    } else if (c == '\'') {
      const std::size_t end = line.find('\'', i + 1);
      if (end != std::string::npos) {
        // The text between the quotes (etcdctl 3.4 cuts it at a length that depends on the
        // number of words of the line, a fault not copied here).
        words.push_back(line.substr(i + 1, end - i - 1));
        i = end + 1;
        continue;
      }
    } else if (!is_re2_space(c)) {
      std::size_t j = i;
      while (j < line.size() && !is_re2_space(line[j])) ++j;
      words.push_back(line.substr(i, j - i));
      i = j;
      continue;
    }
    ++i;  // a blank, or a quote that opens no word
  }
  return words;
}

Txn read_txn(std::istream& in, bool interactive) {
  Txn txn;
  TxnReader reader(in, interactive);
  reader.read_part("compares:", "compares",
                   [&](const std::string& line) { txn.if_(parse_compare(line)); });
  reader.read_part("success requests (get, put, del):", "success requests",
                   [&](const std::string& line) { txn.then(parse_op(line)); });
  reader.read_part("failure requests (get, put, del):", "failure requests",
                   [&](const std::string& line) { txn.else_(parse_op(line)); });
  return txn;
}

}  // namespace etcdpp::cli
