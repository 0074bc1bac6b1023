/// \file
/// \brief Umbrella header: every public header of the library, by layer.
#pragma once

#include "pot/core/affine.hpp"
#include "pot/core/io.hpp"
#include "pot/core/limits.hpp"
#include "pot/core/packing.hpp"
#include "pot/core/pot.hpp"
#include "pot/core/rounding.hpp"
#include "pot/core/traits.hpp"

#include "pot/quant/aligned_bytes.hpp"
#include "pot/quant/observer.hpp"
#include "pot/quant/packed_matrix.hpp"
#include "pot/quant/pot_quantizer.hpp"

#include "pot/linalg/execution.hpp"
#include "pot/linalg/gemm.hpp"
#include "pot/linalg/gemm_arguments.hpp"
#include "pot/linalg/gemm_reference.hpp"
#include "pot/linalg/parallel_for.hpp"
#include "pot/linalg/pot_gemv.hpp"
#include "pot/linalg/pot_weights.hpp"
#include "pot/simd/code_decoding.hpp"
#include "pot/simd/dequantize.hpp"
#include "pot/simd/gemm_micro_kernel.hpp"
#include "pot/simd/integer_dot.hpp"
#include "pot/simd/shift_accumulate.hpp"

#include "pot/quant/fake_quant.hpp"

#include "pot/autodiff/derivatives.hpp"
#include "pot/autodiff/dual.hpp"
#include "pot/autodiff/ste.hpp"
#include "pot/autodiff/tape.hpp"
#include "pot/autodiff/var.hpp"

#include "pot/nn/accumulator.hpp"
#include "pot/nn/adamw.hpp"
#include "pot/nn/attention.hpp"
#include "pot/nn/cross_entropy.hpp"
#include "pot/nn/embedding.hpp"
#include "pot/nn/gelu.hpp"
#include "pot/nn/ids.hpp"
#include "pot/nn/layernorm.hpp"
#include "pot/nn/matmul.hpp"
#include "pot/nn/residual.hpp"
#include "pot/nn/softmax.hpp"
