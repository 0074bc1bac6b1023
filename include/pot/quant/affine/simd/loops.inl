// The affine quantizer on intrinsic registers, written once and compiled once per
// instruction set: quant/affine/simd/avx2.hpp and quant/affine/simd/avx512.hpp include
// this file inside their target region and their own namespace (quant/affine/simd/
// neon.hpp inside its namespace only: NEON needs no region), after
// defining there a struct `qreg` with the register `type`, `lanes` and the operations
// set1, loadu, storeu, add, sub, mul, round_even (to nearest, ties to even, whatever
// MXCSR says), select_ge / select_le (a >= b or a <= b, ordered: false for NaN, ? t : f),
// select_nan, store_codes (exact integers to int32) and store_inside (1 where
// lo <= v <= hi, ordered, else 0, as bytes). No include guard, no includes (see
// simd/target.hpp).

/// The steps of pot::quantize on one register: the unclamped `nearbyint(x * inv_scale)
/// + zero_point` and the code (clamped below then above, NaN to the zero point).
struct quantized {
  qreg::type unclamped, code;
};

inline quantized quantize(qreg::type x, const affine_floats& p) noexcept {
  const qreg::type scaled = qreg::mul(x, qreg::set1(p.inv_scale));
  const qreg::type shifted = qreg::add(qreg::round_even(scaled), qreg::set1(p.zero_point));
  qreg::type code = qreg::select_ge(shifted, qreg::set1(p.qmax), qreg::set1(p.qmax), shifted);
  code = qreg::select_le(shifted, qreg::set1(p.qmin), qreg::set1(p.qmin), code);
  code = qreg::select_nan(scaled, qreg::set1(p.zero_point), code);
  return {shifted, code};
}

inline std::size_t quantize_codes(const float* x, std::size_t n, const affine_floats& p, std::int32_t* codes) noexcept {
  const std::size_t vector_end = n - n % qreg::lanes;
  for (std::size_t i = 0; i < vector_end; i += qreg::lanes) qreg::store_codes(codes + i, quantize(qreg::loadu(x + i), p).code);
  return vector_end;
}

inline std::size_t fake_quantize_values(const float* x, std::size_t n, const affine_floats& p, float* y,
                                        std::uint8_t* mask) noexcept {
  const std::size_t vector_end = n - n % qreg::lanes;
  for (std::size_t i = 0; i < vector_end; i += qreg::lanes) {
    const quantized q = quantize(qreg::loadu(x + i), p);
    qreg::storeu(y + i, qreg::mul(qreg::sub(q.code, qreg::set1(p.zero_point)), qreg::set1(p.scale)));
    qreg::store_inside(mask + i, q.unclamped, qreg::set1(p.qmin), qreg::set1(p.qmax));
  }
  return vector_end;
}
