// SPDX-License-Identifier: Apache-2.0
// Paginator: reads a large range page by page at one revision, so that the whole range is never
// held in memory. Made by Client::paginate (client.hpp).
#pragma once

#include <cstddef>
#include <cstdint>
#include <iterator>
#include <memory>
#include <vector>

#include "etcdpp/detail/async.hpp"
#include "etcdpp/kv.hpp"

namespace etcdpp {

/// Reads a range page by page. The first page fixes the revision; every later page is read at
/// that revision, so the pages together are exactly the keys present then, whatever is written
/// meanwhile (unless that revision is compacted before the last page: CompactedError).
///
/// Use it as a range of KeyValue (`for (const KeyValue& kv : client.paginate(...))`), or page
/// by page with next_page(), or with async_next_page() from a coroutine or a callback.
///
/// **Thread safety** One Paginator belongs to one thread at a time. **Errors** next_page() and
/// the iterator's increment throw Error as Client::get does.
class Paginator {
 public:
  /// Takes over the range being read; the Paginator moved from may only be destroyed or
  /// assigned to.
  Paginator(Paginator&&) noexcept;
  /// Drops this one's range and takes over the other's, which may then only be destroyed or
  /// assigned to.
  Paginator& operator=(Paginator&&) noexcept;
  ~Paginator();

  /// The next page of at most the page size keys, in key order; empty once the range is done.
  std::vector<KeyValue> next_page();
  /// next_page(), asynchronous. Handler signature:
  /// `void(std::exception_ptr, std::vector<KeyValue>)`; completes on the handler's executor
  /// (else the client's), with the error next_page() would throw. One at a time per Paginator;
  /// the operation keeps what it reads alive, so the Paginator may go before it completes.
  template <class Token>
  auto async_next_page(Token&& token) {
    return detail::initiate<std::vector<KeyValue>>(
        executor(), std::forward<Token>(token),
        [impl = impl_](auto callback, auto) { start_next_page(impl, std::move(callback)); });
  }
  /// True once next_page() has returned the last page.
  bool done() const noexcept;
  /// The revision the pages are read at: GetOptions::revision when it was set, else the first
  /// page's (0 before it is read).
  std::int64_t revision() const noexcept;

  /// An input iterator over the keys, page after page.
  class iterator {
   public:
    using iterator_category = std::input_iterator_tag;  ///< One pass: each key is read once.
    using value_type = KeyValue;                        ///< The keys come as KeyValue.
    using difference_type = std::ptrdiff_t;             ///< Required of iterators; unused.
    using pointer = const KeyValue*;    ///< What operator-> gives: valid until the next ++.
    using reference = const KeyValue&;  ///< What operator* gives: valid until the next ++.

    iterator() = default;
    /// The current key-value pair.
    reference operator*() const { return page_[index_]; }
    /// The current key-value pair.
    pointer operator->() const { return &page_[index_]; }
    /// Moves to the next key, reading the next page once this one is used up (which throws
    /// Error as Client::get does).
    iterator& operator++() {
      if (++index_ == page_.size()) load();
      return *this;
    }
    /// As ++it; returns nothing, as an input iterator may.
    void operator++(int) { ++*this; }
    /// True once the iterator has passed the last key (and for a default-made one).
    friend bool operator==(const iterator& it, std::default_sentinel_t) { return it.owner_ == nullptr; }

   private:
    friend class Paginator;
    explicit iterator(Paginator* owner) : owner_(owner) { load(); }
    void load() {
      page_ = owner_->next_page();
      index_ = 0;
      if (page_.empty()) owner_ = nullptr;
    }
    Paginator* owner_ = nullptr;
    std::vector<KeyValue> page_;
    std::size_t index_ = 0;
  };

  /// Starts reading; a Paginator can be iterated once.
  iterator begin() { return iterator(this); }
  /// The end of the keys: an iterator equals it once it has passed the last key.
  std::default_sentinel_t end() const noexcept { return {}; }

 private:
  friend class Client;
  struct Impl;
  explicit Paginator(std::shared_ptr<Impl> impl);
  asio::any_io_executor executor() const;
  static void start_next_page(const std::shared_ptr<Impl>& impl,
                              detail::Callback<std::vector<KeyValue>> callback);
  std::shared_ptr<Impl> impl_;
};

}  // namespace etcdpp
