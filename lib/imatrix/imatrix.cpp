// Importance matrices: the readers of llama.cpp's GGUF and legacy .dat
// imatrix files (both untrusted: every count and length is checked against
// the bytes left before anything is allocated), the GGUF writer, and the
// per-column means llama-quantize quantizes with.
#include "imatrix/imatrix.hpp"

#include "common/atomic_file.hpp"
#include "common/error.hpp"
#include "common/finite.hpp"
#include "common/mapped_file.hpp"
#include "gguf/gguf.hpp"
#include "gguf/writer.hpp"
#include "lowbit/lowbit.h"

#include <algorithm>
#include <cmath>
#include <cstring>

namespace lb::imatrix {

namespace {

constexpr const char *kSumsSuffix = ".in_sum2";
constexpr const char *kInSumsSuffix = ".in_sum";
constexpr const char *kCountsSuffix = ".counts";
constexpr const char *kKeyType = "general.type";
constexpr const char *kKeyDatasets = "imatrix.datasets";
constexpr const char *kKeyChunkCount = "imatrix.chunk_count";
constexpr const char *kKeyChunkSize = "imatrix.chunk_size";
// Entry names are tensor names; a GGUF tensor name holds at most 63 bytes.
constexpr size_t kMaxName = gguf::kMaxTensorName;
// The bytes a legacy entry takes at least: name length, a 1-byte name, ncall,
// nval and one value.
constexpr uint64_t kMinLegacyEntryBytes = 4 + 1 + 4 + 4 + 4;
// Counts at or above 2^63 cannot be rounded to an int64 (as llama.cpp's
// loader does): no real imatrix comes near.
constexpr float kMaxCount = 9.2233720e18f;

using ull = unsigned long long;

// Printable form of a name for error messages (names come from the file).
std::string quoted(const std::string &s) {
    std::string out;
    for (char c : s.substr(0, 80)) {
        const unsigned char u = static_cast<unsigned char>(c);
        if (u >= 0x20 && u < 0x7f)
            out += c;
        else
            out += strformat("\\x%02x", u);
    }
    if (s.size() > 80) out += "...";
    return "'" + out + "'";
}

bool strip_suffix(const std::string &s, const char *suffix, std::string &stem) {
    const size_t n = std::strlen(suffix);
    if (s.size() < n || s.compare(s.size() - n, n, suffix) != 0) return false;
    stem = s.substr(0, s.size() - n);
    return true;
}

void check_finite(const std::string &path, const std::string &entry, const char *what, const float *v,
                  size_t n) {
    const int64_t bad = first_non_finite(v, static_cast<int64_t>(n));
    if (bad >= 0)
        fail(LB_E_FORMAT, "%s: imatrix entry %s: %s value %lld is %s", path.c_str(), quoted(entry).c_str(),
             what, static_cast<long long>(bad), std::isnan(v[bad]) ? "NaN" : "infinite");
}

// Sums and counts must be finite and non-negative (sums of squares, token
// counts).
void check_values(const std::string &path, const std::string &entry, const char *what, const float *v,
                  size_t n) {
    check_finite(path, entry, what, v, n);
    for (size_t i = 0; i < n; ++i)
        if (v[i] < 0.0f)
            fail(LB_E_FORMAT, "%s: imatrix entry %s: %s value %zu is negative (%g)", path.c_str(),
                 quoted(entry).c_str(), what, i, static_cast<double>(v[i]));
}

void check_counts(const std::string &path, const std::string &entry, const std::vector<float> &counts) {
    check_values(path, entry, "count", counts.data(), counts.size());
    for (size_t i = 0; i < counts.size(); ++i)
        if (counts[i] >= kMaxCount)
            fail(LB_E_FORMAT, "%s: imatrix entry %s: count %zu is absurdly large (%g)", path.c_str(),
                 quoted(entry).c_str(), i, static_cast<double>(counts[i]));
}

// Sorts the entries by name and refuses duplicates.
void sort_entries(std::vector<Entry> &entries, const std::string &path) {
    std::sort(entries.begin(), entries.end(), [](const Entry &a, const Entry &b) { return a.name < b.name; });
    for (size_t i = 1; i < entries.size(); ++i)
        if (entries[i].name == entries[i - 1].name)
            fail(LB_E_FORMAT, "%s: imatrix entry %s appears more than once", path.c_str(),
                 quoted(entries[i].name).c_str());
}

// --- Legacy .dat ----------------------------------------------------------

class LegacyCursor {
  public:
    explicit LegacyCursor(const MappedFile &f) : p_(f.data()), size_(f.size()), path_(f.path()) {}

    uint64_t left() const { return size_ - pos_; }
    uint64_t offset() const { return pos_; }

    // Checks that n bytes remain for `what`.
    void need(uint64_t n, const std::string &what) const {
        if (n > left())
            fail(LB_E_FORMAT,
                 "%s: legacy imatrix file is truncated: %s needs %llu bytes at offset %llu but only %llu are "
                 "left",
                 path_.c_str(), what.c_str(), static_cast<ull>(n), static_cast<ull>(pos_),
                 static_cast<ull>(left()));
    }
    int32_t i32(const std::string &what) {
        need(4, what);
        int32_t v;
        std::memcpy(&v, p_ + pos_, 4);
        pos_ += 4;
        return v;
    }
    std::string bytes(uint64_t n, const std::string &what) {
        need(n, what);
        std::string s(reinterpret_cast<const char *>(p_ + pos_), static_cast<size_t>(n));
        pos_ += n;
        return s;
    }
    void floats(float *out, uint64_t n, const std::string &what) {
        need(n * 4, what);
        std::memcpy(out, p_ + pos_, static_cast<size_t>(n * 4));
        pos_ += n * 4;
    }

  private:
    const uint8_t *p_;
    uint64_t size_;
    uint64_t pos_ = 0;
    const std::string &path_;
};

void read_legacy(const MappedFile &f, Imatrix &m) {
    const std::string &path = f.path();
    LegacyCursor cur(f);
    const int32_t n_entries = cur.i32("the entry count");
    if (n_entries <= 0)
        fail(LB_E_FORMAT,
             "%s: not an importance matrix: as a legacy imatrix file it has %d entries (it is not GGUF "
             "either)",
             path.c_str(), n_entries);
    if (static_cast<uint64_t>(n_entries) > cur.left() / kMinLegacyEntryBytes)
        fail(LB_E_FORMAT,
             "%s: not an importance matrix, or a truncated one: as a legacy imatrix file it claims %d "
             "entries, but "
             "only %llu bytes follow (each entry takes at least %llu)",
             path.c_str(), n_entries, static_cast<ull>(cur.left()), static_cast<ull>(kMinLegacyEntryBytes));
    m.entries.reserve(static_cast<size_t>(n_entries));
    for (int32_t i = 0; i < n_entries; ++i) {
        const std::string where = strformat("entry %d of %d", i + 1, n_entries);
        const int32_t name_len = cur.i32("the name length of " + where);
        if (name_len <= 0)
            fail(LB_E_FORMAT, "%s: legacy imatrix %s has %s name (length %d)", path.c_str(), where.c_str(),
                 name_len == 0 ? "an empty" : "a negative", name_len);
        if (static_cast<size_t>(name_len) > kMaxName)
            fail(LB_E_FORMAT,
                 "%s: legacy imatrix %s has a name of %d bytes, longer than any tensor name can be (%zu)",
                 path.c_str(), where.c_str(), name_len, kMaxName);
        Entry e;
        e.name = cur.bytes(static_cast<uint64_t>(name_len), "the name of " + where);
        if (e.name.find('\0') != std::string::npos)
            fail(LB_E_FORMAT, "%s: legacy imatrix %s has a name with a NUL byte: %s", path.c_str(),
                 where.c_str(), quoted(e.name).c_str());
        const std::string entry = where + " (" + quoted(e.name) + ")";
        const int32_t ncall = cur.i32("the call count of " + entry);
        if (ncall < 0)
            fail(LB_E_FORMAT, "%s: imatrix entry %s has a negative call count (%d)", path.c_str(),
                 quoted(e.name).c_str(), ncall);
        const int32_t nval = cur.i32("the value count of " + entry);
        if (nval <= 0)
            fail(LB_E_FORMAT, "%s: imatrix entry %s has %s value count (%d)", path.c_str(),
                 quoted(e.name).c_str(), nval == 0 ? "a zero" : "a negative", nval);
        cur.need(static_cast<uint64_t>(nval) * 4, strformat("the %d values of %s", nval, entry.c_str()));
        e.sums.resize(static_cast<size_t>(nval));
        cur.floats(e.sums.data(), static_cast<uint64_t>(nval), "the values of " + entry);
        check_values(path, e.name, "sum", e.sums.data(), e.sums.size());
        e.counts.assign(1, static_cast<float>(ncall));
        m.entries.push_back(std::move(e));
    }
    // The optional trailer: chunk count and dataset name, both or nothing.
    if (cur.left() > 0) {
        if (cur.left() < 8)
            fail(LB_E_FORMAT,
                 "%s: legacy imatrix file is truncated: %llu bytes follow the last entry, but the trailer "
                 "(chunk count "
                 "and dataset name) takes at least 8",
                 path.c_str(), static_cast<ull>(cur.left()));
        const int32_t chunks = cur.i32("the chunk count");
        if (chunks < 0)
            fail(LB_E_FORMAT, "%s: legacy imatrix has a negative chunk count (%d)", path.c_str(), chunks);
        const int32_t len = cur.i32("the dataset name length");
        if (len < 0)
            fail(LB_E_FORMAT, "%s: legacy imatrix has a negative dataset name length (%d)", path.c_str(),
                 len);
        const std::string dataset = cur.bytes(static_cast<uint64_t>(len), "the dataset name");
        if (dataset.find('\0') != std::string::npos)
            fail(LB_E_FORMAT, "%s: legacy imatrix has a dataset name with a NUL byte: %s", path.c_str(),
                 quoted(dataset).c_str());
        if (cur.left() > 0)
            fail(LB_E_FORMAT,
                 "%s: legacy imatrix has %llu unexpected bytes after its trailer (at offset %llu)",
                 path.c_str(), static_cast<ull>(cur.left()), static_cast<ull>(cur.offset()));
        m.chunk_count = static_cast<uint32_t>(chunks);
        if (!dataset.empty()) m.datasets.push_back(dataset);
    }
    m.chunk_size = 0;
    m.legacy = true;
}

// --- GGUF -----------------------------------------------------------------

const gguf::Value *find_value(const gguf::Header &h, const char *key) {
    const long i = gguf::find_key(h.kvs, key);
    return i < 0 ? nullptr : &h.kvs[static_cast<size_t>(i)].value;
}

uint32_t u32_value(const gguf::Header &h, const char *key, const std::string &path) {
    const gguf::Value *v = find_value(h, key);
    if (v == nullptr) return 0;
    if (v->type != gguf::ValueType::U32)
        fail(LB_E_FORMAT, "%s: imatrix key '%s' must be of type u32 but is %s", path.c_str(), key,
             gguf::value_type_name(static_cast<uint32_t>(v->type)));
    uint32_t x;
    std::memcpy(&x, v->bytes.data(), 4);
    return x;
}

std::string shape_of(const gguf::TensorInfo &t) {
    std::string s = "[";
    for (uint32_t d = 0; d < t.n_dims; ++d)
        s += strformat(d == 0 ? "%lld" : ", %lld", static_cast<long long>(t.ne[d]));
    return s + "]";
}

std::vector<float> tensor_floats(const uint8_t *base, const gguf::Header &h, const gguf::TensorInfo &t) {
    std::vector<float> v(static_cast<size_t>(t.n_elements()));
    std::memcpy(v.data(), base + h.data_offset + t.offset, v.size() * sizeof(float));
    return v;
}

void read_gguf(const MappedFile &f, Imatrix &m) {
    const std::string &path = f.path();
    const gguf::Header h = gguf::parse(f.data(), f.size(), path);

    std::string type;
    if (const gguf::Value *v = find_value(h, kKeyType)) {
        if (v->type != gguf::ValueType::STRING)
            fail(LB_E_FORMAT, "%s: key '%s' must be a string but is %s", path.c_str(), kKeyType,
                 gguf::value_type_name(static_cast<uint32_t>(v->type)));
        type = v->strings.at(0);
    }

    // Pair <name>.in_sum2 with <name>.counts. Other tensors (newer files add
    // <name>.in_sum) are ignored, as llama.cpp's loader ignores them.
    std::map<std::string, std::pair<const gguf::TensorInfo *, const gguf::TensorInfo *>> pairs;
    std::map<std::string, const gguf::TensorInfo *> in_sums;
    size_t n_sums = 0;
    for (const gguf::TensorInfo &t : h.tensors) {
        std::string stem;
        if (strip_suffix(t.name, kSumsSuffix, stem)) {
            pairs[stem].first = &t;
            ++n_sums;
        } else if (strip_suffix(t.name, kCountsSuffix, stem)) {
            pairs[stem].second = &t;
        } else if (strip_suffix(t.name, kInSumsSuffix, stem)) {
            in_sums[stem] = &t;
        } else {
            continue;
        }
        if (stem.empty())
            fail(LB_E_FORMAT, "%s: imatrix tensor %s has an empty entry name", path.c_str(),
                 quoted(t.name).c_str());
    }
    if (type != "imatrix" && n_sums == 0) {
        if (type.empty())
            fail(LB_E_FORMAT,
                 "%s: not an importance matrix: a GGUF file without %s = 'imatrix' and without "
                 "<name>.in_sum2 tensors",
                 path.c_str(), kKeyType);
        fail(LB_E_FORMAT,
             "%s: not an importance matrix: %s is %s and there are no <name>.in_sum2 tensors (is this a "
             "model?)",
             path.c_str(), kKeyType, quoted(type).c_str());
    }

    if (const gguf::Value *v = find_value(h, kKeyDatasets)) {
        if (!v->is_array() || v->elem_type != gguf::ValueType::STRING)
            fail(LB_E_FORMAT, "%s: imatrix key '%s' must be an array of strings", path.c_str(), kKeyDatasets);
        m.datasets = v->strings;
    }
    m.chunk_count = u32_value(h, kKeyChunkCount, path);
    m.chunk_size = u32_value(h, kKeyChunkSize, path);

    for (const auto &[name, pair] : pairs) {
        const gguf::TensorInfo *sums = pair.first, *counts = pair.second;
        if (sums == nullptr || counts == nullptr)
            fail(LB_E_FORMAT, "%s: imatrix entry %s has a %s tensor but no %s tensor", path.c_str(),
                 quoted(name).c_str(), sums == nullptr ? "<name>.counts" : "<name>.in_sum2",
                 sums == nullptr ? "<name>.in_sum2" : "<name>.counts");
        for (const gguf::TensorInfo *t : {sums, counts})
            if (t->type != LB_TYPE_F32) {
                const char *type_name = lb_type_name(static_cast<lb_type>(t->type));
                fail(LB_E_FORMAT, "%s: imatrix entry %s: tensor %s has type %s; imatrix tensors must be F32",
                     path.c_str(), quoted(name).c_str(), quoted(t->name).c_str(),
                     type_name != nullptr ? type_name : "?");
            }
        // in_sum2 [ne0, n_mat], counts [1, n_mat]
        const bool shapes_ok = sums->ne[0] >= 1 && sums->ne[1] >= 1 && sums->ne[2] == 1 && sums->ne[3] == 1 &&
                               counts->ne[0] == 1 && counts->ne[1] == sums->ne[1] && counts->ne[2] == 1 &&
                               counts->ne[3] == 1;
        if (!shapes_ok)
            fail(LB_E_FORMAT,
                 "%s: imatrix entry %s: shapes disagree: %s is %s and %s is %s, expected [ne0, n_mat] and "
                 "[1, n_mat]",
                 path.c_str(), quoted(name).c_str(), quoted(sums->name).c_str(), shape_of(*sums).c_str(),
                 quoted(counts->name).c_str(), shape_of(*counts).c_str());
        Entry e;
        e.name = name;
        e.sums = tensor_floats(f.data(), h, *sums);
        e.counts = tensor_floats(f.data(), h, *counts);
        check_values(path, e.name, "sum", e.sums.data(), e.sums.size());
        check_counts(path, e.name, e.counts);
        if (const auto it = in_sums.find(name); it != in_sums.end()) {
            const gguf::TensorInfo *t = it->second;
            if (t->type != LB_TYPE_F32 || t->ne[0] != sums->ne[0] || t->ne[1] != sums->ne[1] ||
                t->ne[2] != 1 || t->ne[3] != 1)
                fail(LB_E_FORMAT, "%s: imatrix entry %s: tensor %s is not F32 %s like %s", path.c_str(),
                     quoted(name).c_str(), quoted(t->name).c_str(), shape_of(*sums).c_str(),
                     quoted(sums->name).c_str());
            e.in_sums = tensor_floats(f.data(), h, *t);
            check_finite(path, e.name, "in_sum", e.in_sums.data(), e.in_sums.size());
        }
        m.entries.push_back(std::move(e));
    }
    if (m.entries.empty())
        fail(LB_E_FORMAT,
             "%s: importance matrix has no entries (no <name>.in_sum2 and <name>.counts tensors)",
             path.c_str());
    m.legacy = false;
}

} // namespace

Imatrix read(const std::string &path) {
    const MappedFile f(path);
    if (f.size() < 4)
        fail(LB_E_FORMAT, "%s: not an importance matrix: the file is only %llu bytes long", path.c_str(),
             static_cast<ull>(f.size()));
    Imatrix m;
    m.path = path;
    uint32_t magic;
    std::memcpy(&magic, f.data(), 4);
    if (magic == gguf::kMagic)
        read_gguf(f, m);
    else
        read_legacy(f, m);
    sort_entries(m.entries, path);
    return m;
}

void write_gguf(const Imatrix &m, const std::string &path) {
    if (m.entries.empty())
        fail(LB_E_INVALID_ARG,
             "%s: an importance matrix without entries cannot be written (llama.cpp refuses it)",
             path.c_str());
    std::vector<const Entry *> order;
    for (const Entry &e : m.entries) order.push_back(&e);
    std::sort(order.begin(), order.end(), [](const Entry *a, const Entry *b) { return a->name < b->name; });

    // The keys, their types and their order as llama.cpp's imatrix tool
    // writes them.
    const std::vector<gguf::KeyValue> kvs = {
        {kKeyType, gguf::Value::string("imatrix")},
        {kKeyDatasets, gguf::Value::string_array(m.datasets)},
        {kKeyChunkCount, gguf::Value::u32(m.chunk_count)},
        {kKeyChunkSize, gguf::Value::u32(m.chunk_size)},
    };
    // Per entry, in name order, <name>.in_sum2 [ne0, n_mat] then
    // <name>.counts [1, n_mat]; ggml drops a trailing extent of 1, so a
    // single-matrix entry has 1-D tensors.
    std::vector<gguf::TensorInfo> infos;
    const std::string source = m.path.empty() ? path : m.path;
    for (size_t i = 0; i < order.size(); ++i) {
        const Entry &e = *order[i];
        const std::string name = quoted(e.name);
        if (i > 0 && e.name == order[i - 1]->name)
            fail(LB_E_FORMAT, "%s: imatrix entry %s appears more than once", source.c_str(), name.c_str());
        if (e.name.empty()) fail(LB_E_FORMAT, "%s: imatrix entry %zu has an empty name", source.c_str(), i);
        if (e.name.size() + std::strlen(kSumsSuffix) > kMaxName)
            fail(LB_E_FORMAT,
                 "%s: imatrix entry %s: the name is %zu bytes long; in GGUF form the tensor name '<name>%s' "
                 "would "
                 "exceed the limit of %zu bytes",
                 source.c_str(), name.c_str(), e.name.size(), kSumsSuffix, kMaxName);
        if (e.counts.empty() || e.sums.empty() || e.sums.size() % e.counts.size() != 0)
            fail(LB_E_FORMAT,
                 "%s: imatrix entry %s has %zu values for %zu counts, not a whole number per count",
                 source.c_str(), name.c_str(), e.sums.size(), e.counts.size());
        check_values(source, e.name, "sum", e.sums.data(), e.sums.size());
        check_counts(source, e.name, e.counts);
        if (!e.in_sums.empty() && e.in_sums.size() != e.sums.size())
            fail(LB_E_FORMAT, "%s: imatrix entry %s has %zu activation sums for %zu squared sums",
                 source.c_str(), name.c_str(), e.in_sums.size(), e.sums.size());
        check_finite(source, e.name, "in_sum", e.in_sums.data(), e.in_sums.size());
        const int64_t n_mat = static_cast<int64_t>(e.counts.size());
        const int64_t ne0 = static_cast<int64_t>(e.ne0());
        if (!e.in_sums.empty()) {
            gguf::TensorInfo in_sums;
            in_sums.name = e.name + kInSumsSuffix;
            in_sums.n_dims = n_mat > 1 ? 2 : 1;
            in_sums.ne[0] = ne0;
            in_sums.ne[1] = n_mat;
            in_sums.type = LB_TYPE_F32;
            in_sums.size = e.in_sums.size() * sizeof(float);
            infos.push_back(std::move(in_sums));
        }
        gguf::TensorInfo sums, counts;
        sums.name = e.name + kSumsSuffix;
        sums.n_dims = n_mat > 1 ? 2 : 1;
        sums.ne[0] = ne0;
        sums.ne[1] = n_mat;
        sums.type = LB_TYPE_F32;
        sums.size = e.sums.size() * sizeof(float);
        counts.name = e.name + kCountsSuffix;
        counts.n_dims = n_mat > 1 ? 2 : 1;
        counts.ne[0] = 1;
        counts.ne[1] = n_mat;
        counts.type = LB_TYPE_F32;
        counts.size = e.counts.size() * sizeof(float);
        infos.push_back(std::move(sums));
        infos.push_back(std::move(counts));
    }

    gguf::Writer w(path, kvs, std::move(infos));
    for (const Entry *e : order) {
        if (!e->in_sums.empty()) {
            w.write(e->in_sums.data(), e->in_sums.size() * sizeof(float));
            w.end_tensor();
        }
        // legacy values are means times ncall: written as the sums, with the
        // ncall as the count, they give the same means
        w.write(e->sums.data(), e->sums.size() * sizeof(float));
        w.end_tensor();
        std::vector<float> counts = e->counts;
        // a legacy ncall of 0 means "the values are the means": count 1 in
        // GGUF gives the same means (a count of 0 would give 1.0)
        if (m.legacy)
            for (float &c : counts)
                if (c == 0.0f) c = 1.0f;
        w.write(counts.data(), counts.size() * sizeof(float));
        w.end_tensor();
    }
    w.commit();
}

void write_legacy(const Imatrix &m, const std::string &path) {
    if (m.chunk_size == 0)
        fail(LB_E_INVALID_ARG,
             "%s: the legacy imatrix form needs the chunk size the matrix was collected with", path.c_str());
    std::vector<const Entry *> order;
    for (const Entry &e : m.entries) {
        // entries that saw no token at all are left out, as llama.cpp leaves them
        const bool any = std::any_of(e.counts.begin(), e.counts.end(), [](float c) { return c > 0.0f; });
        if (any && !e.sums.empty()) order.push_back(&e);
    }
    if (order.empty())
        fail(LB_E_INVALID_ARG, "%s: no imatrix entry has data: the legacy form would be empty", path.c_str());
    std::sort(order.begin(), order.end(), [](const Entry *a, const Entry *b) { return a->name < b->name; });
    AtomicFile out(path);
    auto put_i32 = [&](int64_t v) {
        const int32_t x = static_cast<int32_t>(v);
        out.write(&x, sizeof x);
    };
    put_i32(static_cast<int64_t>(order.size()));
    const double chunk = static_cast<double>(m.chunk_size);
    for (const Entry *e : order) {
        if (e->name.size() > kMaxName)
            fail(LB_E_FORMAT, "%s: imatrix entry %s: the name is longer than %zu bytes", path.c_str(),
                 quoted(e->name).c_str(), kMaxName);
        put_i32(static_cast<int64_t>(e->name.size()));
        out.write(e->name.data(), e->name.size());
        const double max_count = *std::max_element(e->counts.begin(), e->counts.end());
        // the ceiling, so that no entry gets an ncall of 0
        const int64_t ncall = static_cast<int64_t>(std::ceil(max_count / chunk));
        put_i32(ncall);
        put_i32(static_cast<int64_t>(e->sums.size()));
        const size_t ne0 = e->ne0();
        std::vector<float> values(e->sums.size());
        for (size_t i = 0; i < values.size(); ++i) {
            const float count = e->counts[i / ne0];
            values[i] =
                count == 0.0f ? static_cast<float>(ncall) : e->sums[i] / count * static_cast<float>(ncall);
        }
        out.write(values.data(), values.size() * sizeof(float));
    }
    put_i32(static_cast<int64_t>(m.chunk_count));
    const std::string dataset = m.datasets.empty() ? std::string() : m.datasets.back();
    put_i32(static_cast<int64_t>(dataset.size()));
    out.write(dataset.data(), dataset.size());
    out.commit();
}

std::vector<float> means(const Entry &e, bool legacy) {
    if (e.counts.empty()) return e.sums;
    std::vector<float> out(e.sums.size());
    if (legacy) {
        // llama-quantize divides by the entry's ncall (converted to float)
        const float ncall = e.counts[0];
        for (size_t i = 0; i < out.size(); ++i) out[i] = ncall > 0.0f ? e.sums[i] / ncall : e.sums[i];
        return out;
    }
    const size_t ne0 = e.ne0();
    for (size_t m = 0; m < e.counts.size(); ++m) {
        // llama.cpp's loader rounds each count to an integer (half away from
        // zero); an expert that saw no tokens gets importance 1 everywhere
        const float count = std::round(e.counts[m]);
        for (size_t i = m * ne0; i < (m + 1) * ne0 && i < out.size(); ++i)
            out[i] = count > 0.0f ? e.sums[i] / count : 1.0f;
    }
    return out;
}

std::map<std::string, std::vector<float>> means(const Imatrix &m) {
    std::map<std::string, std::vector<float>> out;
    for (const Entry &e : m.entries) out.emplace(e.name, means(e, m.legacy));
    return out;
}

} // namespace lb::imatrix
