/*
 * How fast this machine streams memory: T threads sum 80 MB of floats (the fused target's weights are
 * 80 MB, more than the L3 cache, so a decoding pass reads them from memory once). The time is the floor
 * under one target pass at one position. Used for docs/engine-performance.md ("What limits the speedup").
 *
 *   gcc -O2 -mavx2 -pthread bench/probes/membw.c -o /tmp/membw && /tmp/membw 2
 */
#include <immintrin.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define BYTES (80L * 1024 * 1024)
#define N (BYTES / 4)

static float *data;
static int threads;

typedef struct { int id; float sum; } Part;

static void *sum_part(void *arg) {
  Part *part = arg;
  long lo = N * part->id / threads, hi = N * (part->id + 1) / threads;
  __m256 a = _mm256_setzero_ps(), b = a, c = a, d = a;
  for (long i = lo; i + 32 <= hi; i += 32) {
    a = _mm256_add_ps(a, _mm256_loadu_ps(data + i));
    b = _mm256_add_ps(b, _mm256_loadu_ps(data + i + 8));
    c = _mm256_add_ps(c, _mm256_loadu_ps(data + i + 16));
    d = _mm256_add_ps(d, _mm256_loadu_ps(data + i + 24));
  }
  float lanes[8];
  _mm256_storeu_ps(lanes, _mm256_add_ps(_mm256_add_ps(a, b), _mm256_add_ps(c, d)));
  part->sum = lanes[0];
  return NULL;
}

static double seconds(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec * 1e-9;
}

int main(int argc, char **argv) {
  threads = argc > 1 ? atoi(argv[1]) : 2;
  if (threads < 1 || threads > 64) return fprintf(stderr, "usage: membw THREADS\n"), 2;
  data = aligned_alloc(64, BYTES);
  for (long i = 0; i < N; i++) data[i] = (float)(i & 7);
  for (int round = 0; round < 10; round++) {
    pthread_t ids[64];
    Part parts[64];
    double start = seconds();
    for (int i = 0; i < threads; i++) { parts[i].id = i; pthread_create(&ids[i], NULL, sum_part, &parts[i]); }
    for (int i = 0; i < threads; i++) pthread_join(ids[i], NULL);
    double elapsed = seconds() - start;
    printf("%d thread(s): 80 MB in %.2f ms = %.1f GB/s (thread start included)\n", threads, elapsed * 1e3, BYTES / elapsed / 1e9);
  }
  free(data);
  return 0;
}
