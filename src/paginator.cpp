// SPDX-License-Identifier: Apache-2.0
// Paging over a range at one revision: the first page fixes the revision, each next page starts
// just after the last key seen. etcd answers a limited range in key order, so no key is missed
// or read twice.
#include "etcdpp/paginator.hpp"

#include "etcdpp/client.hpp"

namespace etcdpp {

struct Paginator::Impl {
  Client client;
  std::string key;
  GetOptions options;  // the first page's: the range as the caller chose it; range_end views end
  std::string end;     // the range's end, as an explicit range end, for the later pages
  bool done = false;

  /// Takes the page read: pins the revision, and moves the start past its last key.
  std::vector<KeyValue> advance(GetResult&& page) {
    // Pin every later page to the first page's revision.
    if (options.revision == 0) options.revision = page.header.revision;
    if (!page.more || page.kvs.empty()) {
      done = true;
    } else {
      // The next page starts at the smallest key after the last one: the key with a 0 byte
      // added, and ends where the range does.
      key = page.kvs.back().key;
      key.push_back('\0');
      options.range_end = end;
      options.prefix = false;
      options.from_key = false;
    }
    return std::move(page.kvs);
  }
};

Paginator::Paginator(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}
Paginator::Paginator(Paginator&&) noexcept = default;
Paginator& Paginator::operator=(Paginator&&) noexcept = default;
Paginator::~Paginator() = default;

bool Paginator::done() const noexcept { return impl_->done; }
std::int64_t Paginator::revision() const noexcept { return impl_->options.revision; }
asio::any_io_executor Paginator::executor() const { return impl_->client.executor(); }

std::vector<KeyValue> Paginator::next_page() {
  auto& s = *impl_;
  if (s.done) return {};
  return s.advance(s.client.get(s.key, s.options));
}

void Paginator::start_next_page(const std::shared_ptr<Impl>& impl,
                                detail::Callback<std::vector<KeyValue>> callback) {
  if (impl->done) {
    callback({}, {});
    return;
  }
  impl->client.async_get(
      impl->key, impl->options,
      [impl, callback = std::move(callback)](std::exception_ptr e, GetResult page) {
        if (e) {
          callback(detail::CallStatus{error_code_of(e), {}, e}, {});
          return;
        }
        callback({}, impl->advance(std::move(page)));
      });
}

Paginator Client::paginate(std::string_view key, GetOptions options,
                           std::int64_t page_size) const {
  const auto refuse = [&](const char* why) {
    throw_error(make_error_code(Errc::invalid_option),
                "paginate \"" + std::string(key) + "\": " + why);
  };
  if (page_size <= 0) refuse("page_size must be positive");
  if (options.limit != 0) refuse("limit cannot be combined with paging (use page_size)");
  if (options.count_only) refuse("count_only has no pages (use get)");
  if (options.sort_order == SortOrder::descend ||
      (options.sort_order != SortOrder::none && options.sort_target != SortTarget::key)) {
    refuse("pages are read in ascending key order; other sorting is not supported");
  }
  // The range end is fixed once, from the original key, before the start key moves on. The
  // first page asks for the range as the caller named it; the later ones name its end in the
  // same terms (a prefix's end, or "\0" for from-key), which get turns into etcd's as it does
  // the first page's.
  std::string end = options.prefix     ? prefix_range_end(key)
                    : options.from_key ? std::string(1, '\0')
                                       : std::string(options.range_end);
  auto impl = std::make_shared<Paginator::Impl>(
      Paginator::Impl{*this, std::string(key), options, std::move(end)});
  // GetOptions::range_end is a view of the caller's bytes: the pages read the Paginator's copy
  // (equal to it whenever it is set alone; with prefix or from_key as well, the first page is
  // refused for the conflict all the same).
  if (!options.range_end.empty()) impl->options.range_end = impl->end;
  impl->options.limit = page_size;
  impl->options.sort_order = SortOrder::none;
  return Paginator(std::move(impl));
}

}  // namespace etcdpp
