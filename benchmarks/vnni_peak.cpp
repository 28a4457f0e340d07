// The int8 multiply-add ceiling of this CPU: throughput of AVX-512 VNNI's VPDPBUSD (64 uint8 x int8 multiply-adds
// into 16 int32 lanes per instruction), 12 independent accumulators per thread so that latency never stalls it.
// Built and run by benchmarks/int8_profile.py: g++ -O3 -mavx512f -mavx512bw -mavx512vnni -pthread; prints GMAC/s.
#include <immintrin.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <thread>
#include <vector>

static int dot_products(long iterations) {
  __m512i acc[12];
  for (int i = 0; i < 12; ++i) acc[i] = _mm512_set1_epi32(i);
  __m512i a = _mm512_set1_epi8(3), b = _mm512_set1_epi8(5);
  for (long n = 0; n < iterations; ++n) {
    for (int i = 0; i < 12; ++i) acc[i] = _mm512_dpbusd_epi32(acc[i], a, b);
    __asm__ volatile("" : "+v"(a));  // keeps the compiler from folding the loop away
  }
  int sum = 0;
  for (int i = 0; i < 12; ++i) sum += _mm512_reduce_add_epi32(acc[i]);
  return sum;
}

int main(int argc, char** argv) {
  const int threads = argc > 1 ? std::atoi(argv[1]) : 2;
  const long iterations = argc > 2 ? std::atol(argv[2]) : 100000000L;
  std::vector<int> sink(threads);
  std::vector<std::thread> pool;
  const auto start = std::chrono::steady_clock::now();
  for (int t = 0; t < threads; ++t) pool.emplace_back([&, t] { sink[t] = dot_products(iterations); });
  for (auto& thread : pool) thread.join();
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("%.1f\n", threads * iterations * 12.0 * 64 / seconds / 1e9);
  return sink[0] == 42 ? 1 : 0;  // uses the result
}
