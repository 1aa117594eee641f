// SPDX-License-Identifier: Apache-2.0
// get, put, del, txn and compaction, with etcdctl's checks, messages and output.
#include <algorithm>
#include <cctype>
#include <charconv>
#include <iostream>
#include <iterator>

#include "commands.hpp"
#include "output.hpp"

namespace etcdpp::cli {
namespace {

std::string upper(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

}  // namespace

std::optional<std::int64_t> parse_int(const std::string& text, int base, std::string* error) {
  std::int64_t value = 0;
  const char* first = text.data();
  const char* last = text.data() + text.size();
  if (first != last && *first == '+') ++first;
  const auto [ptr, ec] = std::from_chars(first, last, value, base);
  if (text.empty() || ec == std::errc::invalid_argument || ptr != last) {
    *error = "strconv.ParseInt: parsing \"" + text + "\": invalid syntax";
    return std::nullopt;
  }
  if (ec == std::errc::result_out_of_range) {
    *error = "strconv.ParseInt: parsing \"" + text + "\": value out of range";
    return std::nullopt;
  }
  return value;
}

LeaseId parse_lease_id(const std::string& text, bool for_put) {
  std::string error;
  const auto id = parse_int(text, 16, &error);
  if (!id) {
    throw ExitError{exit_bad_args, std::string(for_put ? "bad lease ID (" : "bad lease ID arg (") +
                                       error + "), expecting ID in Hex"};
  }
  return LeaseId{*id};
}

std::pair<std::string, GetOptions> get_request(const GetArgs& a) {
  if (a.args.empty() || a.args.size() > 2) {
    throw ExitError{exit_bad_args,
                    "get command needs one argument as key and an optional argument as range_end"};
  }
  if (a.prefix && a.from_key) {
    throw ExitError{exit_bad_args,
                    "`--prefix` and `--from-key` cannot be set at the same time, choose one"};
  }
  GetOptions o;
  std::string key = a.args[0];
  if (a.args.size() == 2) {
    if (a.prefix) {
      throw ExitError{exit_bad_args,
                      "too many arguments, only accept one argument when `--prefix` is set."};
    }
    if (a.from_key) {
      throw ExitError{exit_bad_args,
                      "too many arguments, only accept one argument when `--from-key` is set."};
    }
    o.range_end = a.args[1];
  }
  if (a.consistency == "s") {
    o.serializable = true;
  } else if (a.consistency != "l") {
    throw ExitError{exit_bad_args, "unknown consistency flag \"" + a.consistency + "\""};
  }
  const std::string order = upper(a.order);
  if (order == "ASCEND") {
    o.sort_order = SortOrder::ascend;
  } else if (order == "DESCEND") {
    o.sort_order = SortOrder::descend;
  } else if (!order.empty()) {
    throw ExitError{exit_bad_feature, "bad sort order " + a.order};
  }
  const std::string target = upper(a.sort_by);
  if (target == "CREATE") {
    o.sort_target = SortTarget::create_revision;
  } else if (target == "MODIFY") {
    o.sort_target = SortTarget::mod_revision;
  } else if (target == "VALUE") {
    o.sort_target = SortTarget::value;
  } else if (target == "VERSION") {
    o.sort_target = SortTarget::version;
  } else if (target != "KEY" && !target.empty()) {
    throw ExitError{exit_bad_feature, "bad sort target " + a.sort_by};
  }
  // As clientv3.WithSort: keys come sorted ascending anyway, and asking for it would make etcd
  // read the whole range before applying the limit.
  if (o.sort_target == SortTarget::key && o.sort_order == SortOrder::ascend) {
    o.sort_order = SortOrder::none;
  }
  if (a.prefix) o.prefix = true;
  if (a.from_key) {
    if (key.empty()) key = std::string(1, '\0');
    o.from_key = true;
  }
  o.limit = a.limit;
  o.revision = a.rev;
  o.keys_only = a.keys_only;
  o.count_only = a.count_only;
  return {key, o};
}

std::pair<std::string, DeleteOptions> delete_request(const DelArgs& a) {
  if (a.prefix && a.from_key) {
    throw ExitError{exit_bad_args,
                    "`--prefix` and `--from-key` cannot be set at the same time, choose one"};
  }
  if (a.args.empty() || a.args.size() > 2) {
    throw ExitError{exit_bad_args,
                    "del command needs one argument as key and an optional argument as range_end"};
  }
  DeleteOptions o;
  std::string key = a.args[0];
  if (a.args.size() == 2) {
    if (a.prefix) {
      throw ExitError{exit_bad_args,
                      "too many arguments, only accept one argument when `--prefix` is set."};
    }
    if (a.from_key) {
      throw ExitError{exit_bad_args,
                      "too many arguments, only accept one argument when `--from-key` is set."};
    }
    o.range_end = a.args[1];
  }
  o.prefix = a.prefix;
  if (a.from_key) {
    if (key.empty()) key = std::string(1, '\0');
    o.from_key = true;
  }
  o.prev_kv = a.prev_kv;
  return {key, o};
}

namespace {

struct PutRequest {
  std::string key;
  std::string value;
  PutOptions options;
};

PutRequest put_request(const PutArgs& a, std::istream* stdin_value) {
  if (a.args.empty()) {
    throw ExitError{exit_bad_args,
                    "put command needs 1 argument and input from stdin or 2 arguments"};
  }
  if (a.ignore_value && a.args.size() > 1) {
    throw ExitError{exit_bad_args, "put command needs only 1 argument when 'ignore-value' is set"};
  }
  PutRequest r;
  r.key = a.args[0];
  if (!a.ignore_value) {
    if (a.args.size() > 1) {
      r.value = a.args[1];
    } else if (stdin_value != nullptr) {
      r.value.assign(std::istreambuf_iterator<char>(*stdin_value), {});
    }
    if (a.args.size() < 2 && r.value.empty()) {
      throw ExitError{exit_bad_args,
                      "put command needs 1 argument and input from stdin or 2 arguments"};
    }
  }
  r.options.lease = parse_lease_id(a.lease, true);
  r.options.prev_kv = a.prev_kv;
  r.options.ignore_value = a.ignore_value;
  r.options.ignore_lease = a.ignore_lease;
  return r;
}

}  // namespace

int run_get(Context& ctx, const GetArgs& a) {
  if (a.print_value_only && ctx.format() != Format::simple) {
    throw ExitError{exit_bad_args, "print-value-only is only for `--write-out=simple`"};
  }
  if (ctx.format() == Format::table) throw unsupported_format(Format::table);
  const auto [key, options] = get_request(a);
  const GetResult r = call([&] { return ctx.client().get(key, options); });
  if (ctx.format() == Format::json) {
    print_json(to_json(r));
  } else if (a.count_only) {
    std::cout << r.count << '\n';
  } else {
    print_simple(std::cout, r, a.print_value_only);
  }
  return exit_success;
}

int run_put(Context& ctx, const PutArgs& a) {
  if (ctx.format() == Format::table) throw unsupported_format(Format::table);
  const PutRequest p = put_request(a, &std::cin);
  const PutResult r = call([&] { return ctx.client().put(p.key, p.value, p.options); });
  if (ctx.format() == Format::json) {
    print_json(to_json(r));
  } else {
    print_simple(std::cout, r, false);
  }
  return exit_success;
}

int run_del(Context& ctx, const DelArgs& a) {
  if (ctx.format() == Format::table) throw unsupported_format(Format::table);
  const auto [key, options] = delete_request(a);
  const DeleteResult r = call([&] { return ctx.client().delete_range(key, options); });
  if (ctx.format() == Format::json) {
    print_json(to_json(r));
  } else {
    print_simple(std::cout, r, false);
  }
  return exit_success;
}

int run_compaction(Context& ctx, const std::vector<std::string>& args, bool physical) {
  if (args.size() != 1) throw ExitError{exit_bad_args, "compaction command needs 1 argument"};
  const std::string& revision = args[0];
  std::string error;
  const auto rev = parse_int(revision, 10, &error);
  if (!rev) throw ExitError{exit_error, error};
  call([&] { return ctx.client().compact(*rev, {.physical = physical}); });
  std::cout << "compacted revision " << *rev << '\n';
  return exit_success;
}

// ---- txn ----

std::vector<std::string> split_words(const std::string& line) {
  std::vector<std::string> words;
  std::size_t i = 0;
  while (i < line.size()) {
    if (std::isspace(static_cast<unsigned char>(line[i]))) {
      ++i;
      continue;
    }
    std::string word;
    if (line[i] == '"') {
      ++i;
      while (i < line.size() && line[i] != '"') {
        if (line[i] == '\\' && i + 1 < line.size()) {
          ++i;
          switch (line[i]) {
            case 'n':
              word += '\n';
              break;
            case 't':
              word += '\t';
              break;
            case 'r':
              word += '\r';
              break;
            case '0':
              word += '\0';
              break;
            default:
              word += line[i];
          }
        } else {
          word += line[i];
        }
        ++i;
      }
      ++i;  // the closing quote
    } else if (line[i] == '\'') {
      const std::size_t end = line.find('\'', i + 1);
      word = line.substr(i + 1, end == std::string::npos ? std::string::npos : end - i - 1);
      i = end == std::string::npos ? line.size() : end + 1;
    } else {
      while (i < line.size() && !std::isspace(static_cast<unsigned char>(line[i]))) {
        word += line[i++];
      }
    }
    words.push_back(std::move(word));
  }
  return words;
}

namespace {

// A Go-quoted string at `pos` of `s` ("..." with backslash escapes); advances `pos` past it.
std::optional<std::string> read_quoted(const std::string& s, std::size_t& pos) {
  while (pos < s.size() && s[pos] == ' ') ++pos;
  if (pos >= s.size() || s[pos] != '"') return std::nullopt;
  std::string out;
  for (++pos; pos < s.size(); ++pos) {
    if (s[pos] == '"') {
      ++pos;
      return out;
    }
    if (s[pos] == '\\' && pos + 1 < s.size()) {
      ++pos;
      out += s[pos] == 'n' ? '\n' : s[pos] == 't' ? '\t' : s[pos];
    } else {
      out += s[pos];
    }
  }
  return std::nullopt;
}

// etcdctl's compare line: target("key") op "value", target one of ver(sion), c(reate),
// m(od), val(ue), lease; op one of =, !=, <, >.
Compare parse_compare(const std::string& line) {
  const auto malformed = [&](const std::string& why) {
    return ExitError{exit_invalid_input, "malformed comparison: " + line + why};
  };
  const std::size_t paren = line.find('(');
  if (paren == std::string::npos) throw malformed("");
  const std::string target = line.substr(0, paren);
  std::size_t pos = paren + 1;
  const auto key = read_quoted(line, pos);
  if (!key || pos >= line.size() || line[pos] != ')') throw malformed(" (expected (\"key\"))");
  ++pos;
  while (pos < line.size() && line[pos] == ' ') ++pos;
  const std::size_t op_end = line.find(' ', pos);
  const std::string op = line.substr(pos, op_end == std::string::npos ? op_end : op_end - pos);
  pos = op_end == std::string::npos ? line.size() : op_end;
  const auto value = read_quoted(line, pos);
  if (!value) throw malformed(" (expected a quoted value)");

  Compare c;
  c.key = *key;
  if (op == "=") {
    c.result = Compare::Result::equal;
  } else if (op == "!=") {
    c.result = Compare::Result::not_equal;
  } else if (op == "<") {
    c.result = Compare::Result::less;
  } else if (op == ">") {
    c.result = Compare::Result::greater;
  } else {
    throw malformed(" (unknown operator " + op + ")");
  }
  const auto number = [&] {
    std::string error;
    const auto n = parse_int(*value, 10, &error);
    if (!n) throw ExitError{exit_invalid_input, "invalid txn compare request: " + line};
    return *n;
  };
  if (target == "ver" || target == "version") {
    c.target = Compare::Target::version;
    c.number = number();
  } else if (target == "c" || target == "create") {
    c.target = Compare::Target::create_revision;
    c.number = number();
  } else if (target == "m" || target == "mod") {
    c.target = Compare::Target::mod_revision;
    c.number = number();
  } else if (target == "val" || target == "value") {
    c.target = Compare::Target::value;
    c.bytes = *value;
  } else if (target == "lease") {
    c.target = Compare::Target::lease;
    c.number = number();
  } else {
    throw malformed(" (unknown target " + target + ")");
  }
  return c;
}

// An operation line: put, get or del with their flags, as on the command line.
Op parse_op(const std::string& line) {
  const std::vector<std::string> words = split_words(line);
  const auto invalid = [&] {
    return ExitError{exit_invalid_input, "invalid txn request: " + line};
  };
  if (words.size() < 2) throw ExitError{exit_invalid_input, "invalid txn compare request: " + line};
  const std::string& verb = words[0];
  std::vector<std::string> args;
  std::vector<std::pair<std::string, std::optional<std::string>>> flags;
  static const std::vector<std::string> kValueFlags = {"limit", "rev",         "sort-by",
                                                       "order", "consistency", "lease"};
  for (std::size_t i = 1; i < words.size(); ++i) {
    const std::string& w = words[i];
    if (w.rfind("--", 0) != 0 || w.size() == 2) {
      args.push_back(w);
      continue;
    }
    const std::size_t eq = w.find('=');
    std::string name = w.substr(2, eq == std::string::npos ? eq : eq - 2);
    std::optional<std::string> value;
    if (eq != std::string::npos) {
      value = w.substr(eq + 1);
    } else if (std::find(kValueFlags.begin(), kValueFlags.end(), name) != kValueFlags.end()) {
      if (i + 1 >= words.size()) throw invalid();
      value = words[++i];
    }
    flags.emplace_back(std::move(name), std::move(value));
  }
  const auto boolean = [&](const std::optional<std::string>& v) {
    if (!v || *v == "true") return true;
    if (*v == "false") return false;
    throw invalid();
  };
  const auto integer = [&](const std::optional<std::string>& v) {
    std::string error;
    const auto n = v ? parse_int(*v, 10, &error) : std::nullopt;
    if (!n) throw invalid();
    return *n;
  };

  if (verb == "get") {
    GetArgs a;
    a.args = args;
    for (const auto& [name, v] : flags) {
      if (name == "prefix")
        a.prefix = boolean(v);
      else if (name == "from-key")
        a.from_key = boolean(v);
      else if (name == "keys-only")
        a.keys_only = boolean(v);
      else if (name == "count-only")
        a.count_only = boolean(v);
      else if (name == "print-value-only")
        a.print_value_only = boolean(v);
      else if (name == "limit")
        a.limit = integer(v);
      else if (name == "rev")
        a.rev = integer(v);
      else if (name == "sort-by")
        a.sort_by = v.value_or("");
      else if (name == "order")
        a.order = v.value_or("");
      else if (name == "consistency")
        a.consistency = v.value_or("");
      else
        throw invalid();
    }
    auto [key, options] = get_request(a);
    return Op::get(key, options);
  }
  if (verb == "put") {
    PutArgs a;
    a.args = args;
    for (const auto& [name, v] : flags) {
      if (name == "prev-kv")
        a.prev_kv = boolean(v);
      else if (name == "ignore-value")
        a.ignore_value = boolean(v);
      else if (name == "ignore-lease")
        a.ignore_lease = boolean(v);
      else if (name == "lease")
        a.lease = v.value_or("");
      else
        throw invalid();
    }
    PutRequest p = put_request(a, nullptr);
    return Op::put(p.key, p.value, p.options);
  }
  if (verb == "del") {
    DelArgs a;
    a.args = args;
    for (const auto& [name, v] : flags) {
      if (name == "prefix")
        a.prefix = boolean(v);
      else if (name == "from-key")
        a.from_key = boolean(v);
      else if (name == "prev-kv")
        a.prev_kv = boolean(v);
      else
        throw invalid();
    }
    auto [key, options] = delete_request(a);
    return Op::delete_range(key, options);
  }
  throw invalid();
}

// Reads lines up to a blank line or the end of the input, at most `limit` of them.
std::vector<std::string> read_section(std::istream& in) {
  std::vector<std::string> lines;
  std::string line;
  // etcd takes at most 128 operations by default (--max-txn-ops); ten thousand lines is far
  // beyond any transaction it accepts.
  for (int n = 0; n < 10000 && std::getline(in, line); ++n) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) break;
    lines.push_back(line);
  }
  return lines;
}

}  // namespace

Txn read_txn(std::istream& in, bool interactive) {
  Txn txn;
  if (interactive) std::cout << "compares:\n" << std::flush;
  for (const auto& line : read_section(in)) txn.if_(parse_compare(line));
  if (interactive) std::cout << "success requests (get, put, del):\n" << std::flush;
  for (const auto& line : read_section(in)) txn.then(parse_op(line));
  if (interactive) std::cout << "failure requests (get, put, del):\n" << std::flush;
  for (const auto& line : read_section(in)) txn.else_(parse_op(line));
  return txn;
}

int run_txn(Context& ctx, bool interactive) {
  if (ctx.format() == Format::table) throw unsupported_format(Format::table);
  const Txn txn = read_txn(std::cin, interactive);
  const TxnResult r = call([&] { return ctx.client().txn(txn); });
  if (ctx.format() == Format::json) {
    print_json(to_json(r, txn_json_names(ctx.server_version())));
  } else {
    print_simple(std::cout, r, false);
  }
  return exit_success;
}

}  // namespace etcdpp::cli
