// The part of the oneDNN backend (onednn.cpp) that tests reach directly: finding the
// implementation oneDNN would run for a shape, safely.
//
// oneDNN 2.6 (Debian's 2.6.3) keeps a raw pointer to the operation descriptor inside the
// primitive-descriptor iterator and reads it again on every next_impl(); upstream stopped doing
// so only in v2.7 (b7fd832ace). A descriptor built as a temporary therefore leaves the iterator
// reading a dead object: on AVX2 the first implementation was always taken and the bug slept,
// on VNNI and AMX CPUs int8 convolutions walk from AMX through VNNI kernels and crashed. A
// Search owns the descriptor and the iterator together, at a heap address that never moves, so
// no iterator can outlive the descriptor it points into.
#pragma once

#if ROOFBENCH_HAVE_ONEDNN

#include <memory>
#include <oneapi/dnnl/dnnl.hpp>
#include <string>
#include <vector>

#include "kernels/core/dtype.h"
#include "kernels/core/shape.h"

namespace roofbench::onednn {

template <class Prim>
struct Search {
  typename Prim::desc desc;          // what pd's iterator points into: declared (built) first
  typename Prim::primitive_desc pd;  // the implementation the iterator stands on

  Search(typename Prim::desc d, const dnnl::primitive_attr& attr, const dnnl::engine& engine)
      : desc(std::move(d)), pd(desc, attr, engine) {}
  Search(const Search&) = delete;  // a copy or move would leave the iterator on the old address
  Search& operator=(const Search&) = delete;
};

using MatmulSearch = Search<dnnl::matmul>;
using ConvSearch = Search<dnnl::convolution_forward>;

// mv and gemm as matmul; conv2d as a direct convolution, on the registry's layouts (NCHW,
// row-major) or, with any_layout, on the activation layouts oneDNN prefers. Throws dnnl::error
// when oneDNN has no implementation at all.
std::unique_ptr<MatmulSearch> matmul_search(const Shape& s, DType d, const dnnl::engine& engine);
std::unique_ptr<ConvSearch> conv_search(const Shape& s, DType d, bool any_layout, const dnnl::engine& engine);

// One implementation oneDNN offers, as the iterator showed it.
struct Offer {
  std::string name;         // impl_info_str(), e.g. "brg:avx512_core_amx", "gemm:jit", "ref:any"
  bool fast_exact = false;  // neither the reference loops nor an inexact (halved-weight) kernel
  dnnl::memory::desc src;   // the source layout it was created for
};

// Steps the search to the first fast, exact implementation (oneDNN lists them best first) and
// returns true, or walks to the end and returns false. `seen` gets every offer visited.
template <class Prim>
bool first_fast_exact(Search<Prim>& search, std::vector<Offer>* seen = nullptr);

// Every implementation oneDNN offers for the search, best first (walks the iterator to its end).
template <class Prim>
std::vector<Offer> all_offers(Search<Prim>& search);

}  // namespace roofbench::onednn

#endif
