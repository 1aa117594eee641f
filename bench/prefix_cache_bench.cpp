// SPDX-License-Identifier: Apache-2.0
// etcdpp-cache-bench: how fast a PrefixCache serves reads from several threads while the
// events of a writer apply, and how much heap it takes per cached key. Runs its own embedded
// etcd; prints one JSON object. A measurement, not a test.
//
//   etcdpp-cache-bench [--keys N] [--readers R] [--seconds S] [--val-size B] [--writers W]
#include <malloc.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <etcdpp/etcdpp.hpp>
#include <iostream>
#include <random>
#include <string>
#include <thread>
#include <vector>

namespace {

using namespace std::chrono_literals;

std::size_t heap_in_use() { return mallinfo2().uordblks; }

std::string key_of(int i) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "bench/cache/%08d", i);
  return buffer;
}

struct ReadFigures {
  double reads_per_second = 0;
  double events_per_second = 0;
};

/// `readers` threads call get() on random keys for `seconds`, while `writers` threads put
/// (when any) keep events coming.
ReadFigures measure_reads(const etcdpp::PrefixCache& cache, etcdpp::Client& client, int keys,
                          int readers, int writers, double seconds, const std::string& value) {
  std::atomic<bool> stop{false};
  std::atomic<std::uint64_t> reads{0};
  std::atomic<std::uint64_t> found{0};
  std::vector<std::thread> threads;
  const std::int64_t rev0 = cache.revision();
  for (int w = 0; w < writers; ++w) {
    threads.emplace_back([&, w] {
      std::minstd_rand random(1000 + w);
      while (!stop) client.put(key_of(int(random() % keys)), value);
    });
  }
  const auto start = std::chrono::steady_clock::now();
  for (int r = 0; r < readers; ++r) {
    threads.emplace_back([&, r] {
      std::minstd_rand random(r);
      std::uint64_t n = 0;
      std::uint64_t hits = 0;
      // Key strings made ahead, so that the loop measures the cache, not snprintf.
      std::vector<std::string> names;
      for (int i = 0; i < 4096; ++i) names.push_back(key_of(int(random() % keys)));
      while (!stop) {
        for (int i = 0; i < 256; ++i, ++n) hits += cache.get(names[n % names.size()]).has_value();
      }
      reads += n;
      found += hits;
    });
  }
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
  stop = true;
  for (auto& t : threads) t.join();
  const double took =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (found != reads) std::cerr << "cache-bench: a read missed a key" << std::endl;
  return {double(reads) / took, double(cache.revision() - rev0) / took};
}

}  // namespace

int main(int argc, char** argv) try {
  int keys = 100000;
  int readers = 4;
  int writers = 2;
  double seconds = 5;
  std::size_t val_size = 64;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    const std::string arg = argv[i + 1];
    if (flag == "--keys")
      keys = std::stoi(arg);
    else if (flag == "--readers")
      readers = std::stoi(arg);
    else if (flag == "--writers")
      writers = std::stoi(arg);
    else if (flag == "--seconds")
      seconds = std::stod(arg);
    else if (flag == "--val-size")
      val_size = std::stoul(arg);
    else
      throw std::invalid_argument("unknown flag " + flag);
  }
  etcdpp::embedded::Node node;
  etcdpp::Client client = node.client();
  const std::string value(val_size, 'v');
  // Fill the prefix in transactions of 100 puts.
  for (int i = 0; i < keys;) {
    etcdpp::Txn txn;
    for (int j = 0; j < 100 && i < keys; ++j, ++i) txn.then(etcdpp::Op::put(key_of(i), value));
    client.txn(txn);
  }

  malloc_trim(0);
  const std::size_t heap_before = heap_in_use();
  const auto list_start = std::chrono::steady_clock::now();
  etcdpp::PrefixCache cache(client, "bench/cache/");
  const double list_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - list_start).count();
  malloc_trim(0);
  const std::size_t heap_after = heap_in_use();
  const double bytes_per_key = double(heap_after - heap_before) / keys;
  const double payload_per_key = double(key_of(0).size() + val_size);

  const ReadFigures idle = measure_reads(cache, client, keys, readers, 0, seconds, value);
  const ReadFigures busy = measure_reads(cache, client, keys, readers, writers, seconds, value);

  std::cout << "{\"keys\": " << keys << ", \"readers\": " << readers << ", \"writers\": " << writers
            << ", \"val_size\": " << val_size << ", \"list_seconds\": " << list_seconds
            << ", \"heap_bytes_per_key\": " << bytes_per_key
            << ", \"key_and_value_bytes\": " << payload_per_key
            << ", \"reads_per_second_idle\": " << idle.reads_per_second
            << ", \"reads_per_second_while_applying\": " << busy.reads_per_second
            << ", \"events_applied_per_second\": " << busy.events_per_second << "}" << std::endl;
  return 0;
} catch (const std::exception& e) {
  std::cerr << "etcdpp-cache-bench: " << e.what() << std::endl;
  return 1;
}
