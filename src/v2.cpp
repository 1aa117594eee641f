// SPDX-License-Identifier: Apache-2.0
// Each v2 call is one v3 Txn (or read): its compares are the v2 conditions, its Else reads what
// is needed to say which condition failed, so the error names the true reason at that revision.
#include "etcdpp/v2.hpp"

#include "concurrency/coroutine_calls.hpp"
#include "etcdpp/concurrency/sequential_key.hpp"

namespace etcdpp::v2 {
namespace {

std::string quoted(std::string_view s) { return "\"" + std::string(s) + "\""; }

[[noreturn]] void fail(Errc code, std::string_view call, std::string_view key,
                       const std::string& why) {
  throw Error(make_error_code(code), "v2 " + std::string(call) + " " + quoted(key) + ": " + why);
}

void check_key(std::string_view call, std::string_view key) {
  if (key.empty()) fail(Errc::empty_key, call, key, "the key is empty");
}

/// `dir` without its trailing "/", and the prefix of its entries (with it).
std::pair<std::string, std::string> dir_names(std::string_view call, std::string_view dir) {
  std::string name(dir);
  while (!name.empty() && name.back() == '/') name.pop_back();
  if (name.empty()) fail(Errc::empty_key, call, dir, "the directory name is empty");
  return {name, name + "/"};
}

/// Reads a key's first child under `key + "/"` (is it a directory?).
Op child_of(std::string_view key) {
  GetOptions options = detail::prefix_read(1);
  options.keys_only = true;
  return Op::get(std::string(key) + "/", options);
}

std::optional<KeyValue> first(const OpResult& r) {
  const auto& kvs = r.get().kvs;
  if (kvs.empty()) return std::nullopt;
  return kvs.front();
}

/// Which condition failed, from the key (`current`) and its children as the failed Txn read them.
[[noreturn]] void explain(std::string_view call, std::string_view key,
                          const std::optional<KeyValue>& current, bool is_dir,
                          const std::optional<bool>& prev_exist,
                          const std::optional<std::string>& prev_value,
                          const std::optional<std::int64_t>& prev_index) {
  if (!current && is_dir) {
    fail(Errc::failed_precondition, call, key, "it is a directory (v2 102 Not a file)");
  }
  if (prev_exist == false && current) {
    fail(Errc::already_exists, call, key,
         "prevExist=false but the key exists (v2 105 Key already exists)");
  }
  if (!current) fail(Errc::key_not_found, call, key, "the key does not exist (v2 100 Key not found)");
  if (prev_value && current->value != *prev_value) {
    fail(Errc::failed_precondition, call, key,
         "prevValue " + quoted(*prev_value) + " but the value is " + quoted(current->value) +
             " (v2 101 Compare failed)");
  }
  if (prev_index && current->mod_revision != *prev_index) {
    fail(Errc::failed_precondition, call, key,
         "prevIndex " + std::to_string(*prev_index) + " but the key's mod revision is " +
             std::to_string(current->mod_revision) + " (v2 101 Compare failed)");
  }
  fail(Errc::failed_precondition, call, key, "a condition failed (v2 101 Compare failed)");
}

}  // namespace

Result set(const Client& client, std::string_view key, std::string_view value,
           const SetOptions& options) {
  check_key("set", key);
  Txn txn;
  if (options.prev_exist == false) txn.if_(Compare::create_revision(key) == 0);
  if (options.prev_exist == true || options.prev_value) txn.if_(Compare::version(key) > 0);
  if (options.prev_value) txn.if_(Compare::value(key) == *options.prev_value);
  if (options.prev_index) txn.if_(Compare::mod_revision(key) == *options.prev_index);
  LeaseId lease{};
  if (options.ttl) lease = detail::grant(client, *options.ttl).id;
  PutOptions put;
  put.lease = lease;
  put.prev_kv = true;
  txn.then(Op::put(key, value, put)).else_({Op::get(key), child_of(key)});
  // Nothing half-written: the lease of a set that did not happen goes. Its revoke failing
  // must not hide why the set failed (the lease then expires by itself within the TTL).
  const auto drop_lease = [&]() noexcept {
    if (lease == LeaseId{}) return;
    try {
      client.lease_revoke(lease);
    } catch (const std::exception&) {
    }
  };
  TxnResult result;
  try {
    result = client.txn(txn);
  } catch (...) {
    drop_lease();
    throw;
  }
  if (!result.succeeded) {
    drop_lease();
    explain("set", key, first(result.responses.at(0)), first(result.responses.at(1)).has_value(),
            options.prev_exist, options.prev_value, options.prev_index);
  }
  return Result{std::string(key), result.header.revision, result.responses.at(0).put().prev_kv,
                lease};
}

LeaseKeepAliveResult refresh(const Client& client, std::string_view key) {
  check_key("refresh", key);
  const auto kv = client.get(key);
  if (!kv) fail(Errc::key_not_found, "refresh", key, "the key does not exist (v2 100 Key not found)");
  if (kv->lease == LeaseId{}) {
    fail(Errc::failed_precondition, "refresh", key, "the key has no TTL: set it with one first");
  }
  return client.lease_keep_alive_once(kv->lease);
}

Result remove(const Client& client, std::string_view key, const DeleteOptions& options) {
  check_key("delete", key);
  Txn txn;
  const bool conditional = options.prev_value || options.prev_index;
  if (conditional) txn.if_(Compare::version(key) > 0);
  if (options.prev_value) txn.if_(Compare::value(key) == *options.prev_value);
  if (options.prev_index) txn.if_(Compare::mod_revision(key) == *options.prev_index);
  // A directory is deleted with delete_dir only.
  txn.if_(Compare::version(std::string(key) + "/").prefix() == 0);
  etcdpp::DeleteOptions del;
  del.prev_kv = true;
  txn.then(Op::delete_range(key, del)).else_({Op::get(key), child_of(key)});
  const TxnResult result = client.txn(txn);
  if (!result.succeeded) {
    const auto current = first(result.responses.at(0));
    const bool has_children = first(result.responses.at(1)).has_value();
    const bool conditions_hold =
        current && (!options.prev_value || current->value == *options.prev_value) &&
        (!options.prev_index || current->mod_revision == *options.prev_index);
    if (has_children && (conditions_hold || (!current && !conditional))) {
      // The key exists (or not) as asked, but keys lie under it: v2 would call it a directory.
      fail(Errc::failed_precondition, "delete", key,
           "keys exist under \"" + std::string(key) +
               "/\", so it is a directory (v2 102 Not a file); use delete_dir with recursive");
    }
    explain("delete", key, current, has_children, std::nullopt, options.prev_value,
            options.prev_index);
  }
  const auto& deleted = result.responses.at(0).delete_range();
  Result out{std::string(key), result.header.revision, std::nullopt, LeaseId{}};
  if (!deleted.prev_kvs.empty()) out.prev = deleted.prev_kvs.front();
  return out;
}

Result create_in_order(const Client& client, std::string_view dir, std::string_view value) {
  const auto [name, prefix] = dir_names("create-in-order", dir);
  auto made = concurrency::create_sequential_key(client, name, value);
  return Result{std::move(made.key), made.revision, std::nullopt, LeaseId{}};
}

std::vector<Node> list(const Client& client, std::string_view dir, const ListOptions& options) {
  const auto [name, prefix] = dir_names("list", dir);
  const GetResult all = client.get(prefix, detail::prefix_read());
  if (all.kvs.empty()) {
    fail(Errc::key_not_found, "list", dir, "no such directory (v2 100 Key not found)");
  }
  std::vector<Node> nodes;
  for (const KeyValue& kv : all.kvs) {
    if (kv.key == prefix) continue;  // the directory's own marker
    const std::string_view rest = std::string_view(kv.key).substr(prefix.size());
    const auto slash = rest.find('/');
    if (options.recursive || slash == std::string_view::npos) {
      const bool is_dir = kv.key.back() == '/';
      nodes.push_back(Node{kv.key, is_dir ? std::string() : kv.value, is_dir, kv.create_revision,
                           kv.mod_revision});
      continue;
    }
    // Keys sharing a prefix are adjacent in key order: one entry per child directory.
    const std::string child = prefix + std::string(rest.substr(0, slash + 1));
    if (nodes.empty() || nodes.back().key != child) {
      nodes.push_back(Node{child, {}, true, kv.key == child ? kv.create_revision : 0,
                           kv.mod_revision});
    } else {
      nodes.back().mod_revision = std::max(nodes.back().mod_revision, kv.mod_revision);
    }
  }
  return nodes;
}

std::vector<Node> list_in_order(const Client& client, std::string_view dir) {
  return list(client, dir, {.recursive = true});
}

Result create_dir(const Client& client, std::string_view dir) {
  const auto [name, prefix] = dir_names("create-dir", dir);
  auto txn = Txn{}
                 .if_(Compare::version(name) == 0)
                 .if_(Compare::version(prefix).prefix() == 0)
                 .then(Op::put(prefix, ""))
                 .else_(Op::get(name));
  const TxnResult result = client.txn(txn);
  if (!result.succeeded) {
    if (first(result.responses.at(0))) {
      fail(Errc::failed_precondition, "create-dir", dir,
           "it is a key, not a directory (v2 104 Not a directory)");
    }
    fail(Errc::already_exists, "create-dir", dir,
         "the directory exists (v2 105 Key already exists)");
  }
  return Result{prefix, result.header.revision, std::nullopt, LeaseId{}};
}

Result delete_dir(const Client& client, std::string_view dir, const DeleteDirOptions& options) {
  const auto [name, prefix] = dir_names("delete-dir", dir);
  etcdpp::DeleteOptions del;
  del.prefix = options.recursive;
  Txn txn;
  if (!options.recursive) {
    // Empty: nothing under the directory but its marker.
    txn.if_(Compare::version(prefix + std::string(1, '\0')).range(prefix_range_end(prefix)) == 0);
  }
  txn.then(Op::delete_range(prefix, del));
  const TxnResult result = client.txn(txn);
  if (!result.succeeded) {
    fail(Errc::failed_precondition, "delete-dir", dir,
         "the directory is not empty (v2 108 Directory not empty): delete it recursively");
  }
  if (result.responses.at(0).delete_range().deleted == 0) {
    fail(Errc::key_not_found, "delete-dir", dir, "no such directory (v2 100 Key not found)");
  }
  return Result{prefix, result.header.revision, std::nullopt, LeaseId{}};
}

std::string version(const Client& client) { return client.maintenance().status().version; }

std::vector<std::string> machines(const Client& client) {
  std::vector<std::string> urls;
  for (const Member& member : client.cluster().member_list()) {
    urls.insert(urls.end(), member.client_urls.begin(), member.client_urls.end());
  }
  return urls;
}

std::vector<EndpointStatus> stats(const Client& client) { return client.maintenance().status_all(); }

StatusResult self_stats(const Client& client) { return client.maintenance().status(); }

StoreStats store_stats(const Client& client) {
  GetOptions every;
  every.from_key = true;
  every.count_only = true;
  const GetResult keys = client.get(std::string(1, '\0'), every);
  return StoreStats{keys.header.revision, keys.count, client.maintenance().status().db_size};
}

}  // namespace etcdpp::v2
