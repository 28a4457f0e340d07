// The int8 multiply-add ceiling of this CPU, for the instructions oneDNN's int8 convolutions use on it:
//   built with -mavx512vnni: AVX-512 VNNI's VPDPBUSD (64 uint8 x int8 multiply-adds into 16 int32 lanes);
//   built with -mavx2 only:  VPMADDUBSW + VPMADDWD + VPADDD, the sequence without VNNI (32 multiply-adds, the pairs
//                            summed in int16 first: why zoo's int8 uses 7-bit activations there).
// Independent accumulators (and, for AVX2, inputs the compiler cannot share between them) so that latency never
// stalls it. Built and run by
// benchmarks/int8_profile.py; prints G multiply-adds/s on the threads asked for.
#include <immintrin.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <thread>
#include <vector>

#if defined(__AVX512VNNI__)
using Vector = __m512i;
constexpr int kMultiplyAdds = 64;
constexpr int kChains = 12, kInputs = 1;  // VPDPBUSD reads its accumulator: nothing for the compiler to share
static Vector splat8(char value) { return _mm512_set1_epi8(value); }
static Vector splat32(int value) { return _mm512_set1_epi32(value); }
static Vector multiply_add(Vector acc, Vector a, Vector b) { return _mm512_dpbusd_epi32(acc, a, b); }
static int total(Vector v) { return _mm512_reduce_add_epi32(v); }
#elif defined(__AVX2__)
using Vector = __m256i;
constexpr int kMultiplyAdds = 32;
constexpr int kChains = 5, kInputs = 5;  // one input each, or the compiler computes one product for all; 5: no spills
static Vector splat8(char value) { return _mm256_set1_epi8(value); }
static Vector splat32(int value) { return _mm256_set1_epi32(value); }
static Vector multiply_add(Vector acc, Vector a, Vector b) {
  const Vector pairs = _mm256_maddubs_epi16(a, b);  // u8 x s8, adjacent pairs summed in int16 (saturating)
  return _mm256_add_epi32(acc, _mm256_madd_epi16(pairs, _mm256_set1_epi16(1)));
}
static int total(Vector v) {
  alignas(32) int lanes[8];
  _mm256_store_si256(reinterpret_cast<Vector*>(lanes), v);
  int sum = 0;
  for (int lane : lanes) sum += lane;
  return sum;
}
#else
#error "build with -mavx512vnni (and -mavx512f -mavx512bw) or with -mavx2"
#endif

static int dot_products(long iterations) {
  Vector acc[kChains], a[kInputs];
  for (int i = 0; i < kChains; ++i) acc[i] = splat32(i);
  for (int i = 0; i < kInputs; ++i) a[i] = splat8(static_cast<char>(3 + i));
  const Vector b = splat8(5);
  for (long n = 0; n < iterations; ++n) {
    for (int i = 0; i < kChains; ++i) acc[i] = multiply_add(acc[i], a[i % kInputs], b);
    for (int i = 0; i < kInputs; ++i) __asm__ volatile("" : "+x"(a[i]));  // keeps the loop from being folded away
  }
  int sum = 0;
  for (int i = 0; i < kChains; ++i) sum += total(acc[i]);
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
  std::printf("%.1f\n", threads * iterations * double(kChains) * kMultiplyAdds / seconds / 1e9);
  return sink[0] == 42 ? 1 : 0;  // uses the result
}
