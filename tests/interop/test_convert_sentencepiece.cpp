// A checkpoint whose tokenizer is a SentencePiece tokenizer.model (as Llama 2
// and Mistral checkpoints ship it): the test trains one with SentencePiece
// itself (Debian's libsentencepiece, a BPE with byte fallback, 2,048 pieces on
// tinystories text, with Llama 2's trainer settings), puts it into a copy of the TinyStories-656K checkpoint
// in place of tokenizer.json, and converts it. SentencePiece's own encoder is
// the oracle: libllama's tokenizer and lowbit's on the converted vocabulary
// give its ids on the validation text and on hard cases.
#include "llama_peer.hpp"
#include "lowbit/lowbit.h"
#include "test_data.hpp"

#include <filesystem>
#include <gtest/gtest.h>
#include <sentencepiece_processor.h>
#include <sentencepiece_trainer.h>
#include <string>
#include <vector>

namespace {

std::vector<int32_t> lowbit_tokens(lb_session *s, const std::string &text) {
    size_t n = 0;
    lb_session_tokenize(s, text.data(), text.size(), LB_TOKENIZE_ADD_SPECIAL, nullptr, 0, &n);
    std::vector<int32_t> out(n);
    EXPECT_EQ(
        lb_session_tokenize(s, text.data(), text.size(), LB_TOKENIZE_ADD_SPECIAL, out.data(), out.size(), &n),
        LB_OK)
        << lb_last_error();
    out.resize(n);
    return out;
}

TEST(ConvertSentencePiece, TheConvertedVocabularyTokenizesAsSentencePiece) {
    testdata::TempDir dir;
    const std::string ckpt = dir.file("ckpt");
    std::filesystem::create_directory(ckpt);
    const std::string source = testdata::shared_data_path("tinystories-656k");
    for (const char *f : {"config.json", "model.safetensors", "tokenizer_config.json"})
        std::filesystem::copy_file(source + "/" + f, ckpt + "/" + f);
    // the model's training text: the second half of the validation text
    const std::string all = testdata::validation_text();
    const std::string train = all.substr(all.size() / 2);
    testdata::write_file(dir.file("train.txt"), std::vector<uint8_t>(train.begin(), train.end()));
    const auto trained = sentencepiece::SentencePieceTrainer::Train(
        "--input=" + dir.file("train.txt") + " --model_prefix=" + ckpt +
        "/tokenizer --vocab_size=2048 --model_type=bpe --byte_fallback=true --character_coverage=1.0 "
        "--num_threads=2 --minloglevel=2 --bos_id=1 --eos_id=2 --unk_id=0 "
        // Llama's own settings: text as it is (llama.cpp's tokenizer applies no
        // normalization), digits apart, runs of spaces kept
        "--normalization_rule_name=identity --remove_extra_whitespaces=false --split_digits=true "
        "--allow_whitespace_only_pieces=true");
    ASSERT_TRUE(trained.ok()) << trained.ToString();
    std::filesystem::remove(ckpt + "/tokenizer.vocab");
    sentencepiece::SentencePieceProcessor sp;
    ASSERT_TRUE(sp.Load(ckpt + "/tokenizer.model").ok());

    lb_convert_options o;
    ASSERT_EQ(lb_convert_options_init(&o, LB_CONVERT_OPTIONS_VERSION), LB_OK);
    const std::string gguf = dir.file("spm.gguf");
    ASSERT_EQ(lb_convert(ckpt.c_str(), gguf.c_str(), &o, nullptr, nullptr), LB_OK) << lb_last_error();

    lb_model *m = nullptr;
    ASSERT_EQ(lb_model_open(&m, gguf.c_str()), LB_OK) << lb_last_error();
    lb_session *s = nullptr;
    ASSERT_EQ(lb_session_new(&s, m), LB_OK) << lb_last_error();
    const peer::LlamaModel llama(gguf, true);
    const std::vector<std::string> texts = {
        all.substr(0, all.size() / 2), // text the model was not trained on
        "Hello world",
        " leading space, and  two spaces\tand a tab\n\nnew lines",
        "na\xc3\xafve caf\xc3\xa9 \xe2\x82\xac 5 \xe2\x80\x94 \xe4\xbd\xa0\xe5\xa5\xbd "
        "\xf0\x9f\x98\x80", // bytes
        "1234567890 3.14159",
    };
    for (const std::string &t : texts) {
        std::vector<int32_t> want;
        for (int id : sp.EncodeAsIds(t)) want.push_back(id);
        want.insert(want.begin(), 1); // BOS, as the vocabulary asks
        EXPECT_EQ(llama.tokenize(t, true, false), want) << "libllama on: " << t.substr(0, 60);
        EXPECT_EQ(lowbit_tokens(s, t), want) << "lowbit on: " << t.substr(0, 60);
    }
    EXPECT_GT(sp.EncodeAsIds(texts[0]).size(), 50000u);
    lb_session_free(s);
    lb_model_close(m);
}

} // namespace
