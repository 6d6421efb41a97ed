// Runs a callable when the scope ends unless dismissed: for undoing a partly
// built resource on an error path without repeating the cleanup on every branch.
#pragma once

#include <utility>

namespace bulkhead {

template <typename F>
class ScopeExit {
 public:
  explicit ScopeExit(F f) : f_(std::move(f)) {}
  ~ScopeExit() {
    if (armed_) {
      f_();
    }
  }
  ScopeExit(const ScopeExit&) = delete;
  ScopeExit& operator=(const ScopeExit&) = delete;
  void dismiss() { armed_ = false; }

 private:
  F f_;
  bool armed_ = true;
};

}  // namespace bulkhead
