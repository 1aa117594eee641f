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
  // strconv.ParseInt(text, base, 64): an optional sign, then digits of `base`; base 0 takes the
  // prefixes 0x, 0o, 0b and 0 (octal) and underscores between digits, as pflag's integer flags
  // read them.
  const auto fail = [&](const char* why) {
    *error = "strconv.ParseInt: parsing " + go_quote(text) + ": " + why;
    return std::nullopt;
  };
  std::string_view s = text;
  bool negative = false;
  if (!s.empty() && (s.front() == '+' || s.front() == '-')) {
    negative = s.front() == '-';
    s.remove_prefix(1);
  }
  if (s.empty()) return fail("invalid syntax");
  const std::string_view unsigned_text = s;
  const bool base0 = base == 0;
  if (base0) {
    base = 10;
    if (s.front() == '0') {
      const char p =
          s.size() >= 3 ? static_cast<char>(std::tolower(static_cast<unsigned char>(s[1]))) : '\0';
      base = p == 'b' ? 2 : p == 'o' ? 8 : p == 'x' ? 16 : 8;
      s.remove_prefix(p == 'b' || p == 'o' || p == 'x' ? 2 : 1);
    }
  }
  std::uint64_t n = 0;
  bool underscores = false;
  for (const char c : s) {
    int d = 0;
    const char lower = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (c == '_' && base0) {
      underscores = true;
      continue;
    }
    if (c >= '0' && c <= '9') {
      d = c - '0';
    } else if (lower >= 'a' && lower <= 'z') {
      d = lower - 'a' + 10;
    } else {
      return fail("invalid syntax");
    }
    if (d >= base) return fail("invalid syntax");
    const auto b = static_cast<std::uint64_t>(base);
    if (n > (UINT64_MAX - static_cast<std::uint64_t>(d)) / b) return fail("value out of range");
    n = n * b + static_cast<std::uint64_t>(d);
  }
  if (underscores) {
    // Go's underscoreOK: each underscore between two digits (a base prefix counts as one).
    std::string_view u = unsigned_text;
    char saw = '^';
    std::size_t i = 0;
    bool hex = false;
    if (u.size() >= 2 && u[0] == '0') {
      const char p = static_cast<char>(std::tolower(static_cast<unsigned char>(u[1])));
      if (p == 'b' || p == 'o' || p == 'x') {
        i = 2;
        saw = '0';
        hex = p == 'x';
      }
    }
    for (; i < u.size(); ++i) {
      const char lower = static_cast<char>(std::tolower(static_cast<unsigned char>(u[i])));
      if ((u[i] >= '0' && u[i] <= '9') || (hex && lower >= 'a' && lower <= 'f')) {
        saw = '0';
      } else if (u[i] == '_') {
        if (saw != '0') return fail("invalid syntax");
        saw = '_';
      } else {
        if (saw == '_') return fail("invalid syntax");
        saw = '!';
      }
    }
    if (saw == '_') return fail("invalid syntax");
  }
  constexpr std::uint64_t cutoff = std::uint64_t{1} << 63;
  if (!negative && n >= cutoff) return fail("value out of range");
  if (negative && n > cutoff) return fail("value out of range");
  return negative ? static_cast<std::int64_t>(~n + 1) : static_cast<std::int64_t>(n);
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
  // etcdctl's getGetOp, check for check in its order; words after range_end are ignored.
  if (a.args.empty()) {
    throw ExitError{exit_bad_args,
                    "get command needs one argument as key and an optional argument as range_end"};
  }
  if (a.prefix && a.from_key) {
    throw ExitError{exit_bad_args,
                    "`--prefix` and `--from-key` cannot be set at the same time, choose one"};
  }
  GetOptions o;
  if (a.consistency == "s") {
    o.serializable = true;
  } else if (a.consistency != "l") {
    throw ExitError{exit_bad_feature, "unknown consistency flag " + go_quote(a.consistency)};
  }
  std::string key = a.args[0];
  if (a.args.size() > 1) {
    if (a.prefix || a.from_key) {
      throw ExitError{exit_bad_args,
                      "too many arguments, only accept one argument when `--prefix` or "
                      "`--from-key` is set"};
    }
    o.range_end = a.args[1];
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
  if (a.rev > 0) o.revision = a.rev;  // etcdctl ignores a revision of 0 or below
  o.keys_only = a.keys_only;
  o.count_only = a.count_only;
  return {key, o};
}

std::pair<std::string, DeleteOptions> delete_request(const DelArgs& a) {
  // etcdctl's getDelOp, check for check in its order.
  if (a.args.empty() || a.args.size() > 2) {
    throw ExitError{exit_bad_args,
                    "del command needs one argument as key and an optional argument as range_end"};
  }
  if (a.prefix && a.from_key) {
    throw ExitError{exit_bad_args,
                    "`--prefix` and `--from-key` cannot be set at the same time, choose one"};
  }
  DeleteOptions o;
  std::string key = a.args[0];
  if (a.args.size() == 2) {
    if (a.prefix || a.from_key) {
      throw ExitError{exit_bad_args,
                      "too many arguments, only accept one argument when `--prefix` or "
                      "`--from-key` is set"};
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
