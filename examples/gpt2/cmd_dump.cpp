// `gpt2 dump`: loss, logits and every parameter gradient of one token batch, written with
// Hugging Face's names and layouts so that PyTorch's numbers can be compared directly.

#include <iostream>
#include <vector>

#include "commands.hpp"
#include "gpt2_checkpoint.hpp"
#include "safetensors.hpp"

namespace gpt2 {

namespace {

constexpr const char* usage = R"(usage: gpt2 dump --model FILE --batch FILE --out FILE [options]

Runs one forward and backward pass of a float checkpoint (any GPT-2 safetensors file:
`gpt2 train`'s or Hugging Face's) on a token batch and writes a safetensors file with
  loss              F32 scalar (mean cross-entropy)
  logits            F32 (B, T, V)
  grad.<name>       F32 gradient of every parameter, named and shaped as in the checkpoint
                    (Hugging Face: Conv1D weights [in, out]); grad.wte.weight includes the
                    tied lm_head's share

  --model FILE      model.safetensors
  --batch FILE      safetensors with I32 or I64 tensors "inputs" and "targets", both (B, T)
  --out FILE        where to write (atomically)
  --logits-only     the forward pass only: loss and logits, no gradients
  --n-head N        heads of a file without config (default n_embd / 64, as GPT-2's)
  --threads N       default: every hardware thread
)";

std::vector<std::int32_t> token_tensor(const safetensors_file& file, const std::string& path,
                                       const char* name, std::vector<std::size_t>& shape) {
  const tensor* found = file.find(name);
  if (found == nullptr || found->shape.size() != 2)
    throw std::runtime_error("pot: " + path + ": needs a (B, T) integer tensor \"" + name + "\"");
  if (!shape.empty() && found->shape != shape)
    throw std::runtime_error("pot: " + path + ": \"inputs\" and \"targets\" differ in shape");
  shape = found->shape;
  const std::vector<std::int64_t> values = found->to_integers();
  std::vector<std::int32_t> tokens;
  tokens.reserve(values.size());
  for (const std::int64_t value : values) {
    if (value < 0 || value > INT32_MAX)
      throw std::runtime_error("pot: " + path + ": token " + std::to_string(value) + " in \"" + name +
                               "\" is not a vocabulary index");
    tokens.push_back(static_cast<std::int32_t>(value));
  }
  return tokens;
}

}  // namespace

int run_dump(arguments& args) {
  if (args.help()) {
    std::cout << usage;
    return 0;
  }
  const auto model_path = args.optional_text("model");
  const auto batch_path = args.optional_text("batch");
  const auto out_path = args.optional_text("out");
  const bool logits_only = args.flag("logits-only");
  const model_request request = read_model_request(args);
  const auto execution = threads_option(args);
  args.finish();
  if (!model_path || !batch_path || !out_path)
    throw std::invalid_argument("pot: dump needs --model, --batch and --out (see --help)");

  if (request.tokenizer.requested_kind())
    throw std::invalid_argument("pot: dump reads token ids; it takes no --tokenizer or --vocab");
  const gpt2_checkpoint checkpoint = load_gpt2_checkpoint(*model_path, request.n_head);
  const safetensors_file batch = read_safetensors(*batch_path);
  std::vector<std::size_t> shape;
  const auto inputs = token_tensor(batch, *batch_path, "inputs", shape);
  const auto targets = token_tensor(batch, *batch_path, "targets", shape);
  const std::size_t B = shape[0];
  const std::size_t T = shape[1];
  if (T > checkpoint.config.block_size)
    throw std::runtime_error("pot: " + *batch_path + ": T = " + std::to_string(T) +
                             " exceeds the model's block_size " +
                             std::to_string(checkpoint.config.block_size));

  gpt2_model<float> model(checkpoint.config, B, T, execution);
  model.load_parameters(checkpoint.parameters);
  const float loss = model.forward(inputs, targets, B, T);
  if (!logits_only) model.backward();

  safetensors_file out;
  out.metadata["model"] = *model_path;
  out.metadata["batch"] = *batch_path;
  out.tensors.push_back(make_f32_tensor("loss", {}, std::span(&loss, 1)));
  out.tensors.push_back(make_f32_tensor("logits", {B, T, checkpoint.config.vocab_size}, model.logits()));
  for (const parameter_tensor& p : logits_only ? std::span<const parameter_tensor>() : model.parameter_tensors()) {
    const auto gradient = model.gradients().subspan(p.offset, p.size);
    std::vector<float> stored(gradient.begin(), gradient.end());
    if (p.transposed) {  // buffer (OC, C) -> Hugging Face Conv1D [C, OC]
      const std::size_t rows = p.shape[0];
      const std::size_t cols = p.shape[1];
      for (std::size_t r = 0; r < rows; ++r)
        for (std::size_t c = 0; c < cols; ++c) stored[c * rows + r] = gradient[r * cols + c];
    }
    out.tensors.push_back(make_f32_tensor("grad." + p.name, p.hf_shape, stored));
  }
  write_safetensors(*out_path, out);
  std::cout << "loss " << loss << " on a " << B << " x " << T << " batch; wrote logits and "
            << out.tensors.size() - 2 << " gradients to " << *out_path << "\n";
  return 0;
}

}  // namespace gpt2
