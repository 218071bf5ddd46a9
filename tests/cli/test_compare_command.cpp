// lowbit compare: the table's figures against `lowbit kld` (the independent
// path) and against bits per weight worked out here from the files' tensors;
// --json, --csv and the table agreeing; --per-tensor (zero for an identical
// copy, the one tensor quantized differently ranked first); the SVG chart
// rendered by headless Chromium; bad input (a one-line error naming the file
// or flag, no temporary file left behind, also when interrupted).
#include "cli_checks.hpp"
#include "lowbit/lowbit.h"
#include "run_cli.hpp"
#include "test_data.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

namespace {

using clitest::Outcome;
using clitest::run_cli;

using clitest::contains;
using clitest::failed_naming;

// The text of the number after "key": (or after "key": {"value": when
// nested), from position `from` of a JSON document.
std::string json_text(const std::string &json, const std::string &key, size_t from = 0) {
    const std::string plain = std::string("\"") + key + "\": ";
    size_t at = json.find(plain, from);
    if (at == std::string::npos) return "";
    at += plain.size();
    if (json[at] == '{') at = json.find("\"value\": ", at) + 9;
    const size_t end = json.find_first_of(",}", at);
    return json.substr(at, end - at);
}

double json_value(const std::string &json, const std::string &key, size_t from = 0) {
    return std::strtod(json_text(json, key, from).c_str(), nullptr);
}

// Where the object of model `file` starts in compare's JSON.
size_t model_at(const std::string &json, const std::string &file) {
    return json.find(std::string("{\"file\": \"") + file + "\"", json.find("\"models\""));
}

std::vector<std::string> split(const std::string &s, char sep) {
    std::vector<std::string> out;
    std::stringstream in(s);
    std::string part;
    while (std::getline(in, part, sep)) out.push_back(part);
    return out;
}

// Bits per weight as llama.cpp reports a model's BPW, from the file's
// tensors: data bits over elements. Also checks each tensor's own figure
// against its type's block layout.
double model_bpw(const std::string &path, std::map<lb_type, uint64_t> *elements_by_type) {
    lb_model *m = nullptr;
    EXPECT_EQ(lb_model_open(&m, path.c_str()), LB_OK) << lb_last_error();
    uint64_t bytes = 0, elements = 0;
    for (size_t i = 0; i < lb_model_tensor_count(m); ++i) {
        const uint64_t n = static_cast<uint64_t>(lb_model_tensor_n_elements(m, i));
        bytes += lb_model_tensor_size(m, i);
        elements += n;
        (*elements_by_type)[lb_model_tensor_type(m, i)] += n;
        const lb_type t = lb_model_tensor_type(m, i);
        const double own = 8.0 * static_cast<double>(lb_model_tensor_size(m, i)) / static_cast<double>(n);
        const double expected = t == LB_TYPE_Q8_0   ? 8.5
                                : t == LB_TYPE_Q4_0 ? 4.5
                                : t == LB_TYPE_F16  ? 16
                                                    : 32;
        EXPECT_EQ(own, expected) << lb_model_tensor_name(m, i) << " " << lb_type_name(t);
    }
    lb_model_close(m);
    return 8.0 * static_cast<double>(bytes) / static_cast<double>(elements);
}

struct Files {
    testdata::TempDir dir;
    std::string text = dir.file("text.txt"), q8 = dir.file("q8_0.gguf"), q4 = dir.file("q4_0.gguf");
    Files() {
        const std::string t = testdata::validation_text(20000);
        testdata::write_file(text, std::vector<uint8_t>(t.begin(), t.end()));
        testdata::quantize_with_lowbit(testdata::stories_path(), q8, LB_FTYPE_Q8_0);
        testdata::quantize_with_lowbit(testdata::stories_path(), q4, LB_FTYPE_Q4_0);
    }
};

const std::vector<std::string> kCommon = {"--ctx", "128", "--chunks", "8", "--threads", "2"};

std::vector<std::string> with_common(std::vector<std::string> args) {
    args.insert(args.end(), kCommon.begin(), kCommon.end());
    return args;
}

TEST(CompareCommand, TableAgreesWithKldAndTheFiles) {
    const Files f;
    const std::string base = testdata::stories_path();
    const Outcome json = run_cli(with_common({"compare", base, f.q8, f.q4, "-f", f.text, "--json"}), 60);
    ASSERT_EQ(json.exit_code, 0) << json.describe();
    // valid JSON
    testdata::write_file(f.dir.file("c.json"), std::vector<uint8_t>(json.out.begin(), json.out.end()));
    const std::string check =
        std::string("python3 -c \"import json,sys; d=json.load(open(sys.argv[1])); "
                    "assert len(d['models'])==2 and d['ctx']==128 and d['chunks']==8 and "
                    "d['scored']==8*63\" ") +
        f.dir.file("c.json");
    EXPECT_EQ(std::system(check.c_str()), 0) << json.out;
    EXPECT_EQ(json_value(json.out, "ctx"), 128);

    for (const std::string &model : {f.q8, f.q4}) {
        SCOPED_TRACE(model);
        const size_t at = model_at(json.out, model);
        ASSERT_NE(at, std::string::npos) << json.out;
        // the divergence is lowbit kld's, to the bit
        const Outcome kld =
            run_cli(with_common({"kld", "--base", base, "--model", model, "-f", f.text, "--json"}));
        ASSERT_EQ(kld.exit_code, 0) << kld.describe();
        EXPECT_EQ(json_text(json.out, "kld", at), json_text(kld.out, "kld"));
        EXPECT_EQ(json_text(json.out, "ppl", at), json_text(kld.out, "ppl"));
        EXPECT_EQ(json_text(json.out, "same_top", at), json_text(kld.out, "same_top"));
        EXPECT_EQ(json_text(json.out, "kld_99", at),
                  json_text(kld.out, "99%", kld.out.find("\"kld_quantiles\"")));
        EXPECT_EQ(json_text(json.out, "ppl", json.out.find("\"base\"")), json_text(kld.out, "ppl_base"));
        // size and bits per weight from the file itself
        EXPECT_EQ(json_value(json.out, "size", at), static_cast<double>(testdata::read_file(model).size()));
        std::map<lb_type, uint64_t> by_type;
        const double bpw = model_bpw(model, &by_type);
        EXPECT_DOUBLE_EQ(json_value(json.out, "bpw", at), bpw);
        // stories260K: the ffn_down weights (rows of 172) fall back to F16, the norms stay F32, and
        // Q8_0 keeps token_embd and output in Q8_0 (8.5 bits); Q4_0 quantizes them to Q4_0, but
        // output.weight to Q8_0 as llama.cpp does
        uint64_t all = 0;
        double bits = 0;
        for (const auto &[type, n] : by_type) {
            all += n;
            bits += static_cast<double>(n) * (type == LB_TYPE_Q8_0   ? 8.5
                                              : type == LB_TYPE_Q4_0 ? 4.5
                                              : type == LB_TYPE_F16  ? 16
                                                                     : 32);
        }
        EXPECT_DOUBLE_EQ(bpw, bits / static_cast<double>(all));
        EXPECT_GT(by_type[LB_TYPE_F16], 0u);
        EXPECT_GT(by_type[LB_TYPE_F32], 0u);
        if (model == f.q8) {
            EXPECT_EQ(by_type.count(LB_TYPE_Q4_0), 0u);
            EXPECT_GT(bpw, 8.5) << "the F16 and F32 tensors add to the Q8_0 tensors' 8.5 bits";
            EXPECT_LT(bpw, 10.5);
        }
        // tokens per second: the chunks' tokens over the model's time
        const double tps = json_value(json.out, "tokens_per_second", at),
                     seconds = json_value(json.out, "seconds", at);
        EXPECT_GT(seconds, 0.0);
        EXPECT_NEAR(tps, 8 * 128 / seconds, 1e-3 * tps);
    }
    const double kld8 = json_value(json.out, "kld", model_at(json.out, f.q8)),
                 kld4 = json_value(json.out, "kld", model_at(json.out, f.q4));
    EXPECT_GT(kld8, 0.0);
    EXPECT_GT(kld4, 10 * kld8) << "Q4_0 is much further from the base than Q8_0";
    EXPECT_LT(json_value(json.out, "bpw", model_at(json.out, f.q4)),
              json_value(json.out, "bpw", model_at(json.out, f.q8)));

    // CSV: a header and one row per model, the same figures
    const Outcome csv = run_cli(with_common({"compare", base, f.q8, f.q4, "-f", f.text, "--csv"}), 60);
    ASSERT_EQ(csv.exit_code, 0) << csv.describe();
    const std::vector<std::string> lines = split(csv.out, '\n');
    ASSERT_EQ(lines.size(), 3u) << csv.out;
    const std::vector<std::string> header = split(lines[0], ',');
    const std::vector<std::string> expected_header = {"file",
                                                      "size",
                                                      "bpw",
                                                      "ppl",
                                                      "ppl_uncertainty",
                                                      "kld",
                                                      "kld_uncertainty",
                                                      "kld_99",
                                                      "same_top",
                                                      "same_top_uncertainty",
                                                      "tokens_per_second"};
    EXPECT_EQ(header, expected_header);
    for (size_t i = 1; i < 3; ++i) {
        const std::vector<std::string> row = split(lines[i], ',');
        ASSERT_EQ(row.size(), header.size()) << lines[i];
        const std::string &model = i == 1 ? f.q8 : f.q4;
        EXPECT_EQ(row[0], model);
        const size_t at = model_at(json.out, model);
        EXPECT_EQ(std::stod(row[1]), json_value(json.out, "size", at));
        EXPECT_NEAR(std::stod(row[2]), json_value(json.out, "bpw", at), 1e-8);
        EXPECT_NEAR(std::stod(row[3]), json_value(json.out, "ppl", at), 1e-8);
        EXPECT_NEAR(std::stod(row[5]), json_value(json.out, "kld", at),
                    1e-8 * json_value(json.out, "kld", at));
        EXPECT_NEAR(std::stod(row[7]), json_value(json.out, "kld_99", at), 1e-8);
        EXPECT_NEAR(std::stod(row[8]), json_value(json.out, "same_top", at), 1e-8);
    }

    // the table: one row per model, the same figures at the printed precision
    const Outcome table = run_cli(with_common({"compare", base, f.q8, f.q4, "-f", f.text}), 60);
    ASSERT_EQ(table.exit_code, 0) << table.describe();
    for (const char *column : {"size (MiB)", "bpw", "PPL", "mean KLD", "99% KLD", "same top", "tokens/s"})
        EXPECT_TRUE(contains(table.out, column)) << column << "\n" << table.out;
    EXPECT_TRUE(contains(table.out, "8 chunks of 128 tokens, 504 positions scored")) << table.out;
    for (const std::string &model : {f.q8, f.q4}) {
        const size_t row = table.out.find(std::string("\n") + model + " ");
        ASSERT_NE(row, std::string::npos) << table.out;
        double size = 0, bpw = 0, ppl = 0, ppl_e = 0, kld = 0, kld_e = 0, p99 = 0, top = 0, top_e = 0,
               tps = 0;
        ASSERT_EQ(std::sscanf(table.out.c_str() + row + 1 + model.size(),
                              " %lf %lf %lf +/- %lf %lf +/- %lf %lf %lf +/- %lf%% %lf", &size, &bpw, &ppl,
                              &ppl_e, &kld, &kld_e, &p99, &top, &top_e, &tps),
                  10)
            << table.out;
        const size_t at = model_at(json.out, model);
        EXPECT_NEAR(size, json_value(json.out, "size", at) / 1048576.0, 0.006);
        EXPECT_NEAR(bpw, json_value(json.out, "bpw", at), 0.0006);
        EXPECT_NEAR(ppl, json_value(json.out, "ppl", at), 0.00006);
        EXPECT_NEAR(kld, json_value(json.out, "kld", at), 0.0000006);
        EXPECT_NEAR(p99, json_value(json.out, "kld_99", at), 0.0000006);
        EXPECT_NEAR(top, 100 * json_value(json.out, "same_top", at), 0.006);
        EXPECT_GT(tps, 0.0);
    }
}

// The "relative" of every tensor in --per-tensor --json, in order.
std::vector<std::pair<std::string, double>> relative_errors(const std::string &json) {
    std::vector<std::pair<std::string, double>> out;
    const std::regex entry("\\{\"name\": \"([^\"]+)\"[^}]*\"relative\": ([^,}]+)\\}");
    for (auto it = std::sregex_iterator(json.begin(), json.end(), entry); it != std::sregex_iterator(); ++it)
        out.emplace_back((*it)[1].str(), std::strtod((*it)[2].str().c_str(), nullptr));
    return out;
}

TEST(CompareCommand, PerTensor) {
    const Files f;
    const std::string base = testdata::stories_path(), copy = f.dir.file("f32.gguf"),
                      mix = f.dir.file("mix.gguf");
    testdata::quantize_with_lowbit(base, copy, LB_FTYPE_ALL_F32);
    // Q8_0 but for one tensor, in Q4_0
    const Outcome q =
        run_cli({"quantize", "--tensor-type", "blk\\.2\\.ffn_up\\.weight=Q4_0", base, mix, "Q8_0"});
    ASSERT_EQ(q.exit_code, 0) << q.describe();

    const Outcome q4 = run_cli(with_common({"compare", base, f.q4, "-f", f.text, "--per-tensor", "--json"}));
    ASSERT_EQ(q4.exit_code, 0) << q4.describe();
    const auto errors = relative_errors(q4.out);
    ASSERT_EQ(errors.size(), 36u) << "5 layers of 7 matrices, and the output\n" << q4.out;
    for (size_t i = 0; i < errors.size(); ++i) {
        EXPECT_GT(errors[i].second, 0.0) << errors[i].first;
        if (i > 0) {
            EXPECT_GE(errors[i - 1].second, errors[i].second) << "worst first";
        }
    }
    EXPECT_EQ(json_value(q4.out, "chunks"), 8);
    EXPECT_TRUE(contains(q4.out, "\"name\": \"blk.0.attn_q.weight\", \"layer\": 0, \"base_type\": \"F32\", "
                                 "\"type\": \"Q4_0\", \"rows\": 1024"))
        << q4.out;

    const Outcome same =
        run_cli(with_common({"compare", base, copy, "-f", f.text, "--per-tensor", "--json"}));
    ASSERT_EQ(same.exit_code, 0) << same.describe();
    const auto zero = relative_errors(same.out);
    ASSERT_EQ(zero.size(), 36u) << same.out;
    for (const auto &[name, e] : zero) EXPECT_EQ(e, 0.0) << name;

    // the one Q4_0 tensor among Q8_0 ones hurts most, by far: first in the table
    const Outcome one = run_cli(with_common({"compare", base, mix, "-f", f.text, "--per-tensor"}));
    ASSERT_EQ(one.exit_code, 0) << one.describe();
    EXPECT_TRUE(contains(one.out, "relative error")) << one.out;
    const std::regex first_row(
        "\\n +1  (\\S+) +F32 +(\\S+) +(\\S+) +(\\S+)\\n +2  (\\S+) +F32 +(\\S+) +(\\S+)");
    std::smatch m;
    ASSERT_TRUE(std::regex_search(one.out, m, first_row)) << one.out;
    EXPECT_EQ(m[1].str(), "blk.2.ffn_up.weight");
    EXPECT_EQ(m[2].str(), "Q4_0");
    EXPECT_EQ(m[6].str(), "Q8_0");
    EXPECT_GT(std::stod(m[3].str()), 20 * std::stod(m[7].str())) << one.out;
    // and the same in CSV
    const Outcome csv = run_cli(with_common({"compare", base, mix, "-f", f.text, "--per-tensor", "--csv"}));
    ASSERT_EQ(csv.exit_code, 0) << csv.describe();
    const std::vector<std::string> lines = split(csv.out, '\n');
    ASSERT_EQ(lines.size(), 37u) << csv.out;
    EXPECT_EQ(lines[0], "tensor,layer,base_type,type,rows,error,reference,relative");
    EXPECT_EQ(lines[1].rfind("blk.2.ffn_up.weight,2,F32,Q4_0,1024,", 0), 0u) << lines[1];
}

// A PNG's pixels through python3's zlib (no imaging library needed):
// prints "<non-white> <blue> <dark> <total>".
const char *kPngCounter = R"(import struct, sys, zlib
data = open(sys.argv[1], 'rb').read()
assert data[:8] == b'\x89PNG\r\n\x1a\n', 'not a PNG'
pos, idat = 8, b''
while pos < len(data):
    n, kind = struct.unpack('>I4s', data[pos:pos + 8])
    body = data[pos + 8:pos + 8 + n]
    if kind == b'IHDR':
        w, h, depth, color = struct.unpack('>IIBB', body[:10])
    elif kind == b'IDAT':
        idat += body
    pos += 12 + n
assert depth == 8 and color in (2, 6), (depth, color)
bpp = 3 if color == 2 else 4
raw = zlib.decompress(idat)
stride = w * bpp
prev = bytearray(stride)
white = blue = dark = 0
i = 0
for y in range(h):
    f = raw[i]
    line = bytearray(raw[i + 1:i + 1 + stride])
    i += 1 + stride
    for x in range(stride):
        a = line[x - bpp] if x >= bpp else 0
        b = prev[x]
        c = prev[x - bpp] if x >= bpp else 0
        if f == 1: line[x] = (line[x] + a) & 255
        elif f == 2: line[x] = (line[x] + b) & 255
        elif f == 3: line[x] = (line[x] + (a + b) // 2) & 255
        elif f == 4:
            p = a + b - c
            pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
            line[x] = (line[x] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
    for x in range(0, stride, bpp):
        r, g, bl = line[x], line[x + 1], line[x + 2]
        if r > 245 and g > 245 and bl > 245: white += 1
        if abs(r - 31) < 40 and abs(g - 119) < 40 and abs(bl - 180) < 40 and bl > r + 60: blue += 1
        if r < 110 and g < 110 and bl < 110: dark += 1
    prev = line
print(w * h - white, blue, dark, w * h)
)";

TEST(CompareCommand, ChartOpensInABrowser) {
    const Files f;
    const std::string svg = f.dir.file("chart.svg"), home = f.dir.file("home");
    const Outcome r = run_cli(
        with_common({"compare", testdata::stories_path(), f.q8, f.q4, "-f", f.text, "--svg", svg, "--json"}));
    ASSERT_EQ(r.exit_code, 0) << r.describe();
    const std::vector<uint8_t> bytes = testdata::read_file(svg);
    const std::string doc(bytes.begin(), bytes.end());
    ASSERT_EQ(doc.rfind("<?xml", 0), 0u) << doc.substr(0, 200);

    // the points where the axes put them: x linear in bpw, y in log10(KLD)
    std::map<std::string, double> tick_x, tick_y;
    const std::regex x_tick("<text x=\"([0-9.]+)\" y=\"[0-9.]+\" text-anchor=\"middle\">([0-9]+)</text>");
    for (auto it = std::sregex_iterator(doc.begin(), doc.end(), x_tick); it != std::sregex_iterator(); ++it)
        tick_x[(*it)[2].str()] = std::stod((*it)[1].str());
    const std::regex y_tick("<text x=\"[0-9.]+\" y=\"([0-9.]+)\" text-anchor=\"end\">([0-9.e-]+)</text>");
    for (auto it = std::sregex_iterator(doc.begin(), doc.end(), y_tick); it != std::sregex_iterator(); ++it)
        tick_y[(*it)[2].str()] = std::stod((*it)[1].str()) - 4; // the label sits 4 px below its line
    ASSERT_TRUE(tick_x.count("8") && tick_x.count("9")) << doc;
    ASSERT_TRUE(tick_y.count("0.01") && tick_y.count("0.001")) << doc;
    const double px_per_bit = tick_x["9"] - tick_x["8"], px_per_decade = tick_y["0.001"] - tick_y["0.01"];
    EXPECT_GT(px_per_bit, 20);
    EXPECT_GT(px_per_decade, 20);
    const std::regex circle("<circle cx=\"([0-9.]+)\" cy=\"([0-9.]+)\"");
    std::vector<std::pair<double, double>> centers;
    for (auto it = std::sregex_iterator(doc.begin(), doc.end(), circle); it != std::sregex_iterator(); ++it)
        centers.emplace_back(std::stod((*it)[1].str()), std::stod((*it)[2].str()));
    ASSERT_EQ(centers.size(), 2u) << doc;
    for (size_t i = 0; i < 2; ++i) {
        const size_t at = model_at(r.out, i == 0 ? f.q8 : f.q4);
        const double bpw = json_value(r.out, "bpw", at), kld = json_value(r.out, "kld", at);
        EXPECT_NEAR(centers[i].first, tick_x["8"] + (bpw - 8) * px_per_bit, 0.1);
        EXPECT_NEAR(centers[i].second, tick_y["0.01"] - (std::log10(kld) + 2) * px_per_decade, 0.1);
    }

    // Chromium parses it (an XML error shows as a <parsererror> page) with its labels and titles
    const std::string chromium = std::string("HOME=") + home +
                                 " timeout 60 chromium --headless --no-sandbox --disable-gpu " +
                                 "--hide-scrollbars --no-first-run --disable-dev-shm-usage ";
    ASSERT_EQ(std::system((std::string("mkdir -p ") + home).c_str()), 0);
    ASSERT_EQ(std::system("command -v chromium >/dev/null"), 0)
        << "headless Chromium is needed (Debian's chromium: scripts/setup-deps.sh --all)";
    const std::string dom_file = f.dir.file("dom.txt");
    ASSERT_EQ(std::system((chromium + "--dump-dom file://" + svg + " >" + dom_file + " 2>/dev/null").c_str()),
              0);
    const std::vector<uint8_t> dom_bytes = testdata::read_file(dom_file);
    const std::string dom(dom_bytes.begin(), dom_bytes.end());
    EXPECT_EQ(dom.rfind("<svg", 0), 0u) << dom.substr(0, 500);
    EXPECT_FALSE(contains(dom, "parsererror")) << dom.substr(0, 2000);
    for (const char *label : {">q8_0.gguf</text>", ">q4_0.gguf</text>", ">bits per weight</text>",
                              ">mean KL-divergence (nats, log scale)</text>",
                              ">Mean KL-divergence against bits per weight</text>"})
        EXPECT_TRUE(contains(dom, label)) << label;

    // and draws it: mostly white, with the blue points and dark text and axes
    const std::string png = f.dir.file("chart.png"), counter = f.dir.file("count.py");
    testdata::write_file(counter, std::vector<uint8_t>(kPngCounter, kPngCounter + std::strlen(kPngCounter)));
    ASSERT_EQ(std::system((chromium + "--window-size=820,540 --screenshot=" + png + " file://" + svg +
                           " >/dev/null 2>&1")
                              .c_str()),
              0);
    const std::string counts_file = f.dir.file("counts.txt");
    ASSERT_EQ(std::system((std::string("python3 ") + counter + " " + png + " >" + counts_file).c_str()), 0);
    const std::vector<uint8_t> counts_bytes = testdata::read_file(counts_file);
    long non_white = 0, blue = 0, dark = 0, total = 0;
    ASSERT_EQ(std::sscanf(std::string(counts_bytes.begin(), counts_bytes.end()).c_str(), "%ld %ld %ld %ld",
                          &non_white, &blue, &dark, &total),
              4);
    std::printf("chart: %ld of %ld pixels drawn, %ld blue, %ld dark\n", non_white, total, blue, dark);
    EXPECT_EQ(total, 820 * 540);
    EXPECT_GT(non_white, total / 50) << "a blank picture";
    EXPECT_LT(non_white, total / 2) << "not a chart on white";
    EXPECT_GT(blue, 2 * 40) << "the two points (disks of radius 5) are drawn";
    EXPECT_GT(dark, 1500) << "the text and axes are drawn";
}

TEST(CompareCommand, BadInput) {
    const Files f;
    const std::string base = testdata::stories_path();
    // temporary files go to TMPDIR: none may be left behind
    const std::string tmp = f.dir.file("tmp");
    ASSERT_EQ(std::system((std::string("mkdir -p ") + tmp).c_str()), 0);
    const char *old_tmp = std::getenv("TMPDIR");
    const std::string saved_tmp = old_tmp != nullptr ? old_tmp : "";
    ::setenv("TMPDIR", tmp.c_str(), 1);
    auto tmp_is_empty = [&] {
        const std::string count = std::string("test -z \"$(ls -A ") + tmp + ")\"";
        return std::system(count.c_str()) == 0;
    };

    EXPECT_TRUE(failed_naming(run_cli({"compare", base, f.dir.file("missing.gguf"), "-f", f.text}),
                              {"missing.gguf"}));
    EXPECT_TRUE(failed_naming(run_cli({"compare", base, f.q8, "-f", f.dir.file("none.txt")}), {"none.txt"}));
    testdata::write_file(f.dir.file("empty.txt"), {});
    EXPECT_TRUE(
        failed_naming(run_cli({"compare", base, f.q8, "-f", f.dir.file("empty.txt")}), {"empty.txt"}));
    const std::string other = f.dir.file("other.gguf");
    ASSERT_EQ(run_cli({"synth", other}).exit_code, 0);
    EXPECT_TRUE(failed_naming(run_cli({"compare", base, f.q8, other, "-f", f.text, "--ctx", "128"}),
                              {"other.gguf", "vocabulary"}));
    EXPECT_TRUE(failed_naming(run_cli({"compare", base, other, "-f", f.text, "--ctx", "128", "--per-tensor"}),
                              {"other.gguf", "blk.0.attn_q.weight"}));
    EXPECT_TRUE(failed_naming(run_cli({"compare", base, f.q8, f.q4, "-f", f.text, "--per-tensor"}),
                              {"--per-tensor", "2 were given"}));
    EXPECT_TRUE(failed_naming(run_cli({"compare", base, f.q8}), {"-f TEXT"}));
    EXPECT_TRUE(failed_naming(run_cli({"compare", base, "-f", f.text}), {"at least one model"}));
    EXPECT_TRUE(failed_naming(run_cli({"compare", base, f.q8, "-f", f.text, "--json", "--csv"}),
                              {"--json", "--csv"}));
    EXPECT_TRUE(failed_naming(run_cli({"compare", base, f.q8, "-f", f.text, "--ctx", "1"}), {"--ctx"}));
    EXPECT_TRUE(failed_naming(run_cli({"compare", base, f.q8, "-f", f.text, "--bogus"}), {"--bogus"}));
    // a text shorter than two contexts
    testdata::write_file(f.dir.file("short.txt"), {'O', 'n', 'c', 'e', ' ', 'u', 'p', 'o', 'n'});
    EXPECT_TRUE(failed_naming(run_cli({"compare", base, f.q8, "-f", f.dir.file("short.txt"), "--ctx", "128"}),
                              {"tokens long"}));
    // a chart into a folder that does not exist: the error names it, nothing is printed
    EXPECT_TRUE(failed_naming(
        run_cli(with_common({"compare", base, f.q8, "-f", f.text, "--svg", f.dir.file("no/chart.svg")})),
        {"no/chart.svg"}));
    EXPECT_TRUE(tmp_is_empty()) << "a temporary file was left in " << tmp;
    // a successful run leaves nothing either
    ASSERT_EQ(run_cli(with_common({"compare", base, f.q8, "-f", f.text})).exit_code, 0);
    EXPECT_TRUE(tmp_is_empty()) << "a temporary file was left in " << tmp;

    // interrupted while the base runs over a long text: status 130, no output, the base's file removed
    const std::string long_text = f.dir.file("long.txt");
    const std::string t = testdata::validation_text();
    testdata::write_file(long_text, std::vector<uint8_t>(t.begin(), t.end()));
    bool saw_file = false;
    const Outcome stopped = clitest::run_cli_during(
        {"compare", base, f.q8, "-f", long_text, "--ctx", "128", "--threads", "2"},
        [&](pid_t pid) {
            saw_file = clitest::wait_until_open_in(pid, tmp);
            ::kill(pid, SIGINT);
        },
        60);
    EXPECT_TRUE(saw_file) << "the base's distributions were never written to TMPDIR";
    EXPECT_EQ(stopped.exit_code, 130) << stopped.describe();
    EXPECT_TRUE(stopped.out.empty()) << stopped.out;
    EXPECT_TRUE(tmp_is_empty()) << "a temporary file was left in " << tmp;

    if (old_tmp != nullptr)
        ::setenv("TMPDIR", saved_tmp.c_str(), 1);
    else
        ::unsetenv("TMPDIR");
}

} // namespace
