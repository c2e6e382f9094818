// f(0) .. f(n - 1) on every core (OpenMP), results in order: the kernel fits of a calibration
// are independent and each cross-validates several candidate forms.
#pragma once

#include <omp.h>

#include <cstddef>
#include <exception>
#include <optional>
#include <vector>

namespace roofbench {

// The first exception any call threw is rethrown here, after all of them ended (an exception
// must not leave an OpenMP region).
template <class F>
auto parallel_map(std::size_t n, const F& f) -> std::vector<decltype(f(std::size_t{}))> {
  std::vector<std::optional<decltype(f(std::size_t{}))>> out(n);
  std::exception_ptr error;
#pragma omp parallel for schedule(dynamic, 1) num_threads(omp_get_num_procs())
  for (std::size_t i = 0; i < n; ++i) {
    try {
      out[i] = f(i);
    } catch (...) {
#pragma omp critical(roofbench_parallel_map)
      if (!error) error = std::current_exception();
    }
  }
  if (error) std::rethrow_exception(error);
  std::vector<decltype(f(std::size_t{}))> values;
  for (auto& v : out) values.push_back(std::move(*v));
  return values;
}

}  // namespace roofbench
