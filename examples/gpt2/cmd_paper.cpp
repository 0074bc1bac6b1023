// `gpt2 paper`: the paper's PTQ and QAT tables in one command, written to docs/results.md
// ("PoT quantization") with an SVG bar chart.

#include <chrono>
#include <cmath>
#include <ctime>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <sstream>
#include <vector>

#include "atomic_file.hpp"
#include "commands.hpp"
#include "model_io.hpp"
#include "quantize_pipeline.hpp"

namespace gpt2 {

namespace {

std::string usage() {
  return std::string(R"(usage: gpt2 paper [options]

Trains a float model (or reuses --checkpoint), then for 3 bits E3, 4 bits E5 and 4 bits
E7, each in log and linear rounding (clamp, per-tensor scale, uint8 activations): PTQ
val loss, then QAT val loss, beside a float control fine-tuned for the same steps.
Writes the "PoT quantization" section of --results and an SVG bar chart beside it.

  --checkpoint FILE      float model to start from (else: train one into --out), e.g.
                         Hugging Face's GPT-2 124M with --tokenizer gpt2 --vocab DIR
  --data fortunes|FILE   corpus, UTF-8 (default: the checkpoint's, or fortunes)
  --float-steps 2000     float training steps when no checkpoint is given
  --qat-steps 500        QAT steps, and the float control's extra steps
  --eval-batches 200     fixed val batches per val loss
  --sequence 64          tokens per sequence of the batches of 12 (the paper's; at most
                         the block size)
  --out DIR              trained model and the per-run packed models (default gpt2-paper)
  --results FILE         markdown file to update (default docs/results.md)
)") + model_options_help +
         R"(  --threads N            default: every hardware thread
)";
}

struct paper_row {
  std::string name;
  double ptq = NAN;
  double qat = NAN;
};

// The PyTorch reference's figures (its README.md, one seed), measured on the default
// corpus: they are shown only beside results on that corpus.
constexpr const char* reference_corpus = "fortunes";
struct reference_row {
  const char* format;
  const char* ptq;
  const char* qat;
};
constexpr reference_row reference_rows[] = {
    {"3bit-E3-log-clamp", "2.1770", "2.0091"}, {"3bit-E3-lin-clamp", "-", "-"},
    {"4bit-E5-log-clamp", "2.0366", "-"},      {"4bit-E5-lin-clamp", "-", "-"},
    {"4bit-E7-log-clamp", "2.0343", "1.9979"}, {"4bit-E7-lin-clamp", "2.0431", "2.0013"},
};

std::string cpu_name() {
  std::ifstream cpuinfo("/proc/cpuinfo");
  std::string line;
  while (std::getline(cpuinfo, line))
    if (line.rfind("model name", 0) == 0) return line.substr(line.find(':') + 2);
  return "unknown CPU";
}

// A path as written into the results: relative to the working directory when it lies
// below it, else only its file name, so no directory of the machine that ran it appears.
std::string portable_path(const std::filesystem::path& path) {
  if (!path.is_absolute()) return path.generic_string();
  std::error_code error;
  const std::filesystem::path relative = path.lexically_relative(std::filesystem::current_path(error));
  if (!error && !relative.empty() && *relative.begin() != "..") return relative.generic_string();
  return path.filename().generic_string();
}

// The corpus as written into the results: "fortunes" or a portable path of the text file.
std::string corpus_label(const std::string& corpus) {
  return corpus == reference_corpus ? corpus : portable_path(corpus);
}

std::string fixed(double value) {
  if (std::isnan(value)) return "-";
  std::ostringstream out;
  out << std::fixed << std::setprecision(4) << value;
  return out.str();
}

// \p text with the characters XML gives a meaning escaped (a corpus file name may hold them).
std::string xml_text(const std::string& text) {
  std::string escaped;
  for (const char c : text) {
    if (c == '<') escaped += "&lt;";
    else if (c == '>') escaped += "&gt;";
    else if (c == '&') escaped += "&amp;";
    else if (c == '\'') escaped += "&apos;";
    else escaped += c;
  }
  return escaped;
}

std::string bar_chart_svg(const std::vector<paper_row>& rows, double float_loss, double control_loss,
                          const std::string& corpus) {
  double top = std::max(float_loss, control_loss);
  for (const paper_row& row : rows) top = std::max({top, row.ptq, row.qat});
  const double bottom = std::floor(std::min(float_loss, control_loss) * 10 - 1) / 10, ceiling = top + 0.02;
  const double width = 760, height = 360, left = 60, plot_w = 680, plot_top = 40, plot_h = 250;
  const auto y_of = [&](double loss) { return plot_top + plot_h * (ceiling - loss) / (ceiling - bottom); };
  std::ostringstream svg;
  svg << "<svg xmlns='http://www.w3.org/2000/svg' width='" << width << "' height='" << height
      << "' font-family='sans-serif' font-size='11'>\n<rect width='100%' height='100%' fill='white'/>\n"
      << "<text x='" << left << "' y='20' font-size='14'>GPT-2 val loss on " << xml_text(corpus)
      << ": PTQ vs QAT per PoT format</text>\n";
  for (double tick = bottom; tick <= ceiling + 1e-9; tick += 0.05)
    svg << "<line x1='" << left << "' x2='" << left + plot_w << "' y1='" << y_of(tick) << "' y2='" << y_of(tick)
        << "' stroke='#ddd'/><text x='" << left - 6 << "' y='" << y_of(tick) + 4 << "' text-anchor='end'>"
        << fixed(tick).substr(0, 4) << "</text>\n";
  const double group = plot_w / static_cast<double>(rows.size());
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const double x = left + group * static_cast<double>(i) + group * 0.15;
    const double bar = group * 0.33;
    const auto draw = [&](double loss, double offset, const char* colour) {
      if (std::isnan(loss)) return;
      svg << "<rect x='" << x + offset << "' y='" << y_of(loss) << "' width='" << bar << "' height='"
          << plot_top + plot_h - y_of(loss) << "' fill='" << colour << "'/>\n";
    };
    draw(rows[i].ptq, 0, "#d62728");
    draw(rows[i].qat, bar, "#1f77b4");
    svg << "<text x='" << x + bar << "' y='" << plot_top + plot_h + 16 << "' text-anchor='middle'>" << rows[i].name
        << "</text>\n";
  }
  // The reference lines are labelled in the legend below the plot: a label at the end
  // of a line would sit on the last format's bars.
  const double legend_y = height - 26;
  const auto line = [&](double loss, const char* colour, const std::string& label, double legend_x) {
    svg << "<line x1='" << left << "' x2='" << left + plot_w << "' y1='" << y_of(loss) << "' y2='" << y_of(loss)
        << "' stroke='" << colour << "' stroke-dasharray='6 3'/>\n<line x1='" << legend_x << "' x2='"
        << legend_x + 24 << "' y1='" << legend_y - 4 << "' y2='" << legend_y - 4 << "' stroke='" << colour
        << "' stroke-dasharray='6 3'/><text x='" << legend_x + 28 << "' y='" << legend_y << "' fill='" << colour
        << "'>" << label << "</text>\n";
  };
  line(float_loss, "#2ca02c", "float " + fixed(float_loss), left + 120);
  line(control_loss, "#555", "float + same extra steps " + fixed(control_loss), left + 260);
  svg << "<rect x='" << left << "' y='" << legend_y - 10 << "' width='12' height='12' fill='#d62728'/><text x='"
      << left + 16 << "' y='" << legend_y << "'>PTQ</text><rect x='" << left + 60 << "' y='" << legend_y - 10
      << "' width='12' height='12' fill='#1f77b4'/><text x='" << left + 76 << "' y='" << legend_y
      << "'>QAT</text>\n</svg>\n";
  return svg.str();
}

void write_atomically(const std::filesystem::path& path, const std::string& text) {
  atomic_file_writer writer(path);
  writer.write(std::as_bytes(std::span<const char>(text.data(), text.size())));
  writer.commit();
}

// Replaces the "## PoT quantization" section of \p path (up to the next "## " heading)
// with \p section, or appends it.
void update_results(const std::filesystem::path& path, const std::string& section) {
  std::string text;
  if (std::filesystem::exists(path)) {
    std::ifstream in(path);
    text.assign(std::istreambuf_iterator<char>(in), {});
  } else {
    text = "# Results\n\n";
  }
  const std::string heading = "## PoT quantization";
  const std::size_t begin = text.find(heading);
  if (begin == std::string::npos) {
    text += (text.ends_with("\n\n") ? "" : "\n") + section;
  } else {
    const std::size_t end = text.find("\n## ", begin + heading.size());
    text.replace(begin, end == std::string::npos ? std::string::npos : end + 1 - begin, section);
  }
  write_atomically(path, text);
}

}  // namespace

int run_paper(arguments& args) {
  if (args.help()) {
    std::cout << usage();
    return 0;
  }
  const auto checkpoint = args.optional_text("checkpoint");
  const auto data = args.optional_text("data");
  training_session session;
  session.out_directory = args.text("out", "gpt2-paper");
  session.options.steps = args.count("float-steps", session.options.steps);
  qat_settings settings;
  settings.steps = args.count("qat-steps", settings.steps);
  settings.eval_batches = args.count("eval-batches", settings.eval_batches);
  session.options.eval_batches = settings.eval_batches;
  const std::size_t sequence = args.count("sequence", 0, max_sequence);
  const std::filesystem::path results = args.text("results", "docs/results.md");
  const model_request request = read_model_request(args);
  session.execution = threads_option(args);
  args.finish();
  if (data) session.data = *data;
  session.tokenizer = request.tokenizer;
  std::string command_line =
      "gpt2 paper " + (checkpoint ? "--checkpoint " + portable_path(*checkpoint) : "--float-steps " + std::to_string(session.options.steps));
  if (data) command_line += " --data " + corpus_label(*data);
  if (request.tokenizer.kind) command_line += " --tokenizer " + std::string(tokenizer_kind_name(*request.tokenizer.kind));
  if (request.tokenizer.vocabulary) command_line += " --vocab " + portable_path(*request.tokenizer.vocabulary);
  if (sequence != 0) command_line += " --sequence " + std::to_string(sequence);
  command_line += " --qat-steps " + std::to_string(settings.steps) + " --eval-batches " +
                  std::to_string(settings.eval_batches) + " --threads " +
                  std::to_string(pot::linalg::thread_count(session.execution));
  const auto started = std::chrono::steady_clock::now();

  std::filesystem::create_directories(session.out_directory);
  const std::filesystem::path float_path =
      checkpoint ? std::filesystem::path(*checkpoint) : run_training(session).model_path;
  model_file file = read_model_file(float_path, request);
  const std::string corpus = corpus_of(file.checkpoint.metadata, data, float_path);
  settings.sequence_length = sequence_length(sequence, file.checkpoint.config.block_size);
  const std::size_t T = settings.sequence_length;
  loaded_model base = load_model(std::move(file), settings.batch_size, T, session.execution);
  const token_split split = corpus_split(corpus, base.tokenizer);
  const std::vector<float> float_parameters(base.model->parameters().begin(), base.model->parameters().end());
  const double float_loss = validation_loss(*base.model, split.val, settings.batch_size, T, settings.eval_batches);
  std::cout << "float model " << float_path.string() << " on " << corpus << ": val loss " << float_loss << "\n";

  const double control_loss = fine_tune(*base.model, nullptr, split.train, split.val, settings, "float control");
  std::cout << "float control (+" << settings.steps << " float steps): val loss " << control_loss << "\n";

  std::vector<paper_row> rows;
  double memory_saving = 0;
  for (const int max_exponent : {3, 5, 7})
    for (const auto rounding : {pot::rounding::log, pot::rounding::linear}) {
      quantization_options options;
      options.format = {max_exponent == 3 ? 3 : 4, max_exponent, rounding, zero_policy::clamp};
      paper_row row{format_name(options.format)};
      base.model->load_parameters(float_parameters);
      fake_quant_linears linears(base.model->config(), options);
      install_calibrated_linears(*base.model, linears, split.train, {}, settings.batch_size, T);
      row.ptq = validation_loss(*base.model, split.val, settings.batch_size, T, settings.eval_batches);
      std::cout << "PTQ " << row.name << ": val loss " << row.ptq << "\n";
      row.qat = fine_tune(*base.model, &linears, split.train, split.val, settings, "QAT " + row.name);
      std::cout << "QAT " << row.name << ": val loss " << row.qat << "\n";
      const packed_model packed = pack_model(base.model->config(), base.model->parameters(), options,
                                             linears.activation_parameters(), derived_metadata(base, corpus));
      save_packed_model(session.out_directory / ("qat-" + row.name + ".safetensors"), packed);
      if (max_exponent == 7)
        memory_saving = 1.0 - static_cast<double>(packed.packed_weight_bytes()) /
                                  static_cast<double>(packed.float32_weight_bytes());
      base.model->set_linears({});
      rows.push_back(row);
    }

  const double minutes = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count() / 60;
  const std::time_t now = std::time(nullptr);
  char date[32];
  std::strftime(date, sizeof date, "%Y-%m-%d", std::localtime(&now));
  const std::filesystem::path svg_path = results.parent_path() / "pot-quantization.svg";
  const std::string corpus_name = corpus_label(corpus);
  write_atomically(svg_path, bar_chart_svg(rows, float_loss, control_loss, corpus_name));

  // The reference's figures belong to its corpus and char tokenizer: beside any other
  // they would compare losses of different token streams.
  const bool on_reference_corpus =
      corpus == reference_corpus && base.tokenizer.kind() == tokenizer_kind::character;
  const gpt2_config& config = base.model->config();
  std::ostringstream md;
  md << "## PoT quantization\n\n"
     << "The paper's tables on the corpus " << (on_reference_corpus ? "fortunes (the default)" : corpus_name)
     << ", a model of " << config.n_layer << " layers, " << config.n_head << " heads, " << config.n_embd
     << " channels, block " << config.block_size << ", tokenizer " << base.tokenizer.description() << " (batches of "
     << settings.batch_size << " x " << T << "): every block Linear weight (attn c_attn, attn c_proj, mlp c_fc, mlp c_proj) in PoT, "
        "per-tensor scale max|w| / 2^MaxExp, clamp, uint8 activations (moving-average min/max, 50 calibration "
        "batches); QAT "
     << settings.steps << " steps, fresh AdamW, constant lr 1e-4, identity STE, as ref_pot.py. Val loss is the mean "
     << "over " << settings.eval_batches << " fixed val batches (perplexity = exp(loss)).\n\n"
     << "Made by `" << command_line << "` on " << cpu_name() << ", " << date << " (" << std::fixed
     << std::setprecision(0) << minutes << " min of wall time). The float model is " << portable_path(float_path)
     << ". ";
  if (on_reference_corpus)
    md << "The reference's figures are PyTorch 1.13 on AMD Zen 5, one seed (the PyTorch reference's README.md); "
       << "its batches come from another generator, so differences of a few 0.001 are noise.\n\n"
       << "| weights | PTQ val loss (ppl) | QAT val loss (ppl) | reference PTQ | reference QAT |\n|---|---|---|---|---|\n";
  else
    md << "The PyTorch reference's figures are for the corpus fortunes, char-level, only, so none are shown "
          "here.\n\n"
       << "| weights | PTQ val loss (ppl) | QAT val loss (ppl) |\n|---|---|---|\n";
  const auto reference_columns = [&](const char* ptq, const char* qat) {
    return on_reference_corpus ? std::string(" ") + ptq + " | " + qat + " |" : std::string();
  };
  md << "| float | " << fixed(float_loss) << " (" << std::setprecision(2) << std::exp(float_loss) << ") | "
     << fixed(control_loss) << " (" << std::setprecision(2) << std::exp(control_loss)
     << ") float control, same extra steps |" << reference_columns("2.0149", "1.9929") << "\n";
  for (std::size_t i = 0; i < rows.size(); ++i)
    md << "| " << rows[i].name << " | " << fixed(rows[i].ptq) << " (" << std::setprecision(2) << std::exp(rows[i].ptq)
       << ") | " << fixed(rows[i].qat) << " (" << std::setprecision(2) << std::exp(rows[i].qat) << ") |"
       << reference_columns(reference_rows[i].ptq, reference_rows[i].qat) << "\n";
  md << "\nQAT minus its float control: E7 log " << std::showpos << std::setprecision(4) << rows[4].qat - control_loss
     << std::noshowpos << " nats (the issue's target: within 0.03). Packed 4-bit weights save " << std::setprecision(1)
     << 100 * memory_saving << " % of their float32 bytes (codes + per-tensor scales).\n\n"
     << "![PTQ and QAT val loss per format](" << svg_path.filename().string() << ")\n\n";
  update_results(results, md.str());
  std::cout << "updated " << results.string() << " and " << svg_path.string() << "\n";
  return 0;
}

}  // namespace gpt2
