#include "common/atomic_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>

#include "common/file_util.h"
#include "common/scope_exit.h"
#include "common/unique_fd.h"

namespace bulkhead {

Status write_file_atomic(const std::string& path, const std::string& data, unsigned mode) {
  std::string tmp = path + ".XXXXXX";
  UniqueFd fd(::mkostemp(tmp.data(), O_CLOEXEC));
  if (!fd) {
    return errno_error("create temporary file for " + path);
  }
  ScopeExit remove_tmp([&] { ::unlink(tmp.c_str()); });
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::write(fd.get(), data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0) {
      return errno_error("write " + tmp);
    }
    done += static_cast<size_t>(n);
  }
  if (::fchmod(fd.get(), mode) != 0 || ::fsync(fd.get()) != 0) {
    return errno_error("sync " + tmp);
  }
  fd.reset();
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    return errno_error("rename " + tmp + " to " + path);
  }
  remove_tmp.dismiss();
  size_t slash = path.rfind('/');
  std::string dir = slash == std::string::npos ? "." : (slash == 0 ? "/" : path.substr(0, slash));
  auto dfd = open_dir(dir);
  if (!dfd.ok() || ::fsync(dfd->get()) != 0) {
    return errno_error("sync directory " + dir);
  }
  return {};
}

}  // namespace bulkhead
