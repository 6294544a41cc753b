// locate() is on the announce path, which must not allocate (STYLE.md, "Hot
// path"). This file replaces the global operator new for the whole test binary
// to count allocations made by the calling thread while counting is on.
#include <gtest/gtest.h>

#include <cstdlib>
#include <new>

#include "support/temp_dir.h"
#include "topology/locator.h"
#include "topology/static_map_locator.h"
#include "topology/subnet_locator.h"

namespace {

thread_local bool counting = false;
thread_local long allocations = 0;

}  // namespace

void* operator new(std::size_t size) {
  if (counting) ++allocations;
  if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }

namespace p2p::topology {
namespace {

long allocations_in_locate(const Locator& locator, const std::vector<core::Address>& addresses) {
  allocations = 0;
  counting = true;
  std::uint64_t sum = 0;
  for (int i = 0; i < 100; ++i) {
    for (const auto& a : addresses) sum += locator.locate(a).lo;
  }
  counting = false;
  EXPECT_NE(sum, 0u);  // keep the loop from being optimised away
  return allocations;
}

std::vector<core::Address> probe_addresses() {
  std::vector<core::Address> out;
  for (const char* a : {"10.1.2.3", "10.200.0.1", "192.168.1.1", "2001:db8:1:2::5",
                        "2001:db8:ffff::1", "fe80::1"}) {
    out.push_back(*core::Address::parse(a));
  }
  return out;
}

TEST(LocateAllocationTest, SubnetLocatorNeverAllocates) {
  SubnetLocator locator(24, 64);
  EXPECT_EQ(allocations_in_locate(locator, probe_addresses()), 0);
}

TEST(LocateAllocationTest, StaticMapLocatorNeverAllocates) {
  test::TempDir dir;
  RackNames names;
  auto path = dir.write("racks.map",
                        "10.0.0.0/8 dc1\n10.1.0.0/16 row1\n10.1.2.3 host\n"
                        "2001:db8::/32 dc6\n2001:db8:1:2::/64 rack6\n");
  auto locator = StaticMapLocator::open(path, 24, 64, names);
  ASSERT_TRUE(locator) << locator.error().message;
  auto addresses = probe_addresses();
  EXPECT_EQ(allocations_in_locate(**locator, addresses), 0);
  // Also after a reload swapped the snapshot.
  ASSERT_TRUE((*locator)->reload());
  EXPECT_EQ(allocations_in_locate(**locator, addresses), 0);
}

TEST(LocateAllocationTest, CounterWorks) {
  allocations = 0;
  counting = true;
  int* volatile p = new int(7);
  counting = false;
  delete p;
  EXPECT_EQ(allocations, 1);
}

}  // namespace
}  // namespace p2p::topology
