#pragma once
/// \file
/// \brief Moved: the affine scheme lives in quant/affine/ (params.hpp, quantize.hpp,
/// observer.hpp, fake_quant.hpp), the error helpers in core/errors.hpp. This header only
/// forwards to core/errors.hpp, for packed_matrix.hpp, which still includes it; remove it
/// once that include names core/errors.hpp.

#include "pot/core/errors.hpp"
