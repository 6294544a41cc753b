// Counting heap allocations, for the tests that promise a warm announce
// allocates nothing (STYLE.md). Linking count_allocations.cc into a test binary
// replaces the global operator new/delete with counting versions, so only the
// binaries that test allocation link it. Counts every thread's allocations.
#pragma once

namespace p2p::testing {

// Counts allocations from construction to destruction (one at a time).
class AllocationCounter {
 public:
  AllocationCounter();
  ~AllocationCounter();
  long count() const;
};

}  // namespace p2p::testing
