// Test helper: allocates and touches N MiB, one MiB at a time; exits 0 if it
// got them all (no memory limit held), so a limit shows as a SIGKILL.
#include <cstdio>
#include <cstdlib>
#include <cstring>

int main(int argc, char** argv) {
  long mib = argc > 1 ? std::strtol(argv[1], nullptr, 10) : 1024;
  // Nothing is freed: holding the memory is the point (hence the NOLINT).
  for (long i = 0; i < mib; ++i) {  // NOLINT(clang-analyzer-unix.Malloc)
    void* p = std::malloc(1 << 20);
    if (p == nullptr) {
      std::printf("malloc failed at %ld MiB\n", i);
      return 2;
    }
    std::memset(p, 0x5a, 1 << 20);
  }
  std::printf("allocated %ld MiB\n", mib);
  return 0;
}
