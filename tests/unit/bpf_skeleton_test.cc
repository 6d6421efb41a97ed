#include <gtest/gtest.h>

#include "bpf/skeleton.h"
#include "exec_count.skel.h"

namespace bulkhead::bpf {
namespace {

static_assert(GeneratedSkeleton<exec_count>);
static_assert(!GeneratedSkeleton<int>);

TEST(BpfSkeletonUnit, TypeNameNamesTheSkeleton) {
  EXPECT_EQ(detail::type_name<exec_count>(), "exec_count");
}

TEST(BpfSkeletonUnit, LibbpfErrorTakesErrnoFromTheReturnValue) {
  Error e = libbpf_error(-EPERM, "loading x");
  EXPECT_EQ(e.code, EPERM);
  EXPECT_EQ(e.to_string(), "loading x: Operation not permitted");
  errno = ENOENT;
  EXPECT_EQ(libbpf_error(0, "y").code, ENOENT);
}

}  // namespace
}  // namespace bulkhead::bpf
