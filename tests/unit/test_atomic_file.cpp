// AtomicFile: an output appears only when complete; nothing is left behind
// otherwise. Both methods (the unnamed O_TMPFILE file, and the named
// temporary file used where a filesystem lacks O_TMPFILE).
#include "common/atomic_file.hpp"
#include "common/error.hpp"
#include "test_data.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <string>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <utime.h>
#include <vector>

namespace {

using lb::AtomicFile;

const std::vector<uint8_t> kData{'n', 'e', 'w', ' ', 'd', 'a', 't', 'a'};

std::vector<std::string> sorted_entries(const testdata::TempDir &dir) {
    std::vector<std::string> e = dir.entries();
    std::sort(e.begin(), e.end());
    return e;
}

mode_t mode_of(const std::string &path) {
    struct stat st;
    EXPECT_EQ(::stat(path.c_str(), &st), 0) << path;
    return st.st_mode & 0777;
}

// A pid that no process has: a child's, after it was reaped.
pid_t dead_pid() {
    const pid_t pid = ::fork();
    if (pid == 0) ::_exit(0);
    int status = 0;
    ::waitpid(pid, &status, 0);
    return pid;
}

void age(const std::string &path, int seconds) {
    const time_t then = ::time(nullptr) - seconds;
    const utimbuf times{then, then};
    ASSERT_EQ(::utime(path.c_str(), &times), 0);
}

TEST(AtomicFile, UnnamedFileHasNoNameUntilPublished) {
    testdata::TempDir dir;
    const std::string out = dir.file("out.gguf");
    AtomicFile f(out);
    EXPECT_EQ(f.method(), AtomicFile::Method::Unnamed) << "the build folder's filesystem has O_TMPFILE";
    f.write(kData.data(), kData.size());
    f.finish();
    EXPECT_TRUE(dir.entries().empty()) << "an unnamed file shows in the folder";
    f.publish();
    EXPECT_EQ(sorted_entries(dir), std::vector<std::string>{"out.gguf"});
    EXPECT_EQ(testdata::read_file(out), kData);
    const mode_t mask = ::umask(022);
    ::umask(mask);
    EXPECT_EQ(mode_of(out), 0666 & ~mask);
}

TEST(AtomicFile, PublishReplacesAnExistingFile) {
    for (const AtomicFile::Method method : {AtomicFile::Method::Unnamed, AtomicFile::Method::Named}) {
        testdata::TempDir dir;
        const std::string out = dir.file("out.gguf");
        testdata::write_file(out, {'o', 'l', 'd'});
        AtomicFile f(out, method);
        f.write(kData.data(), kData.size());
        EXPECT_EQ(testdata::read_file(out), (std::vector<uint8_t>{'o', 'l', 'd'}))
            << "replaced before publish";
        f.commit();
        EXPECT_EQ(sorted_entries(dir), std::vector<std::string>{"out.gguf"});
        EXPECT_EQ(testdata::read_file(out), kData);
    }
}

TEST(AtomicFile, AbandonedFileLeavesNothing) {
    for (const AtomicFile::Method method : {AtomicFile::Method::Unnamed, AtomicFile::Method::Named}) {
        testdata::TempDir dir;
        const std::string out = dir.file("out.gguf");
        {
            AtomicFile f(out, method);
            f.write(kData.data(), kData.size());
            if (method == AtomicFile::Method::Named) {
                // ".out.gguf.lowbit-PID-XXXXXX", the name the stale cleanup knows
                const std::string prefix = ".out.gguf.lowbit-" + std::to_string(::getpid()) + "-";
                ASSERT_EQ(dir.entries().size(), 1u);
                EXPECT_EQ(dir.entries()[0].rfind(prefix, 0), 0u) << dir.entries()[0];
                EXPECT_EQ(f.temp_path(), dir.file(dir.entries()[0]));
            }
        }
        EXPECT_TRUE(dir.entries().empty());
    }
}

TEST(AtomicFile, NamedFileGetsTheUsualMode) {
    testdata::TempDir dir;
    const std::string out = dir.file("out.gguf");
    AtomicFile f(out, AtomicFile::Method::Named);
    f.write(kData.data(), kData.size());
    f.commit();
    const mode_t mask = ::umask(022);
    ::umask(mask);
    EXPECT_EQ(mode_of(out), 0666 & ~mask);
}

TEST(AtomicFile, MissingFolderIsAClearError) {
    testdata::TempDir dir;
    const std::string out = dir.file("no/such/folder/out.gguf");
    try {
        AtomicFile f(out);
        FAIL() << "no error";
    } catch (const lb::Error &e) {
        EXPECT_EQ(e.status(), LB_E_IO);
        EXPECT_NE(std::string(e.what()).find(out), std::string::npos) << e.what();
        EXPECT_NE(std::string(e.what()).find("No such file"), std::string::npos) << e.what();
    }
}

TEST(AtomicFile, FolderRemovedBeforePublishIsAClearError) {
    auto dir = std::make_unique<testdata::TempDir>();
    const std::string folder = dir->file("sub"), out = folder + "/out.gguf";
    ASSERT_EQ(::mkdir(folder.c_str(), 0755), 0);
    AtomicFile f(out);
    f.write(kData.data(), kData.size());
    f.finish();
    ASSERT_EQ(::rmdir(folder.c_str()), 0) << "the unnamed file must not keep the folder busy";
    try {
        f.publish();
        FAIL() << "no error";
    } catch (const lb::Error &e) {
        EXPECT_EQ(e.status(), LB_E_IO);
        EXPECT_NE(std::string(e.what()).find(out), std::string::npos) << e.what();
        EXPECT_NE(std::string(e.what()).find("no longer exists"), std::string::npos) << e.what();
    }
}

// What a killed process leaves with the named method, and what is removed.
TEST(AtomicFile, StaleTemporariesOfDeadProcessesAreRemoved) {
    testdata::TempDir dir;
    const std::string out = dir.file("out.gguf");
    const std::string dead = ".out.gguf.lowbit-" + std::to_string(dead_pid()) + "-a1b2c3";
    const std::string dead_fresh = ".out.gguf.lowbit-" + std::to_string(dead_pid()) + "-d4e5f6";
    const std::string alive = ".out.gguf.lowbit-" + std::to_string(::getpid()) + "-0789ab";
    const std::string other_output = ".other.gguf.lowbit-" + std::to_string(dead_pid()) + "-a1b2c3";
    const std::string unrelated = "notes.txt";
    for (const std::string &name : {dead, dead_fresh, alive, other_output, unrelated})
        testdata::write_file(dir.file(name), {1});
    for (const std::string &name : {dead, alive, other_output, unrelated}) age(dir.file(name), 3600);

    // names that carry the PID namespace: this one's are checked at once,
    // another's only by age
    struct stat ns;
    ASSERT_EQ(::stat("/proc/self/ns/pid", &ns), 0);
    char own[32], other[32];
    std::snprintf(own, sizeof own, "%llx", static_cast<unsigned long long>(ns.st_ino));
    std::snprintf(other, sizeof other, "%llx", static_cast<unsigned long long>(ns.st_ino) + 1);
    const std::string prefix = ".out.gguf.lowbit-" + std::to_string(dead_pid()) + "-";
    const std::string dead_here = prefix + own + "-a1b2c3", dead_there = prefix + other + "-a1b2c3";
    const std::string dead_there_old = prefix + other + "-d4e5f6";
    const std::string alive_here = ".out.gguf.lowbit-" + std::to_string(::getpid()) + "-" + own + "-0789ab";
    for (const std::string &name : {dead_here, dead_there, dead_there_old, alive_here})
        testdata::write_file(dir.file(name), {1});
    age(dir.file(dead_there_old), 3600);

    EXPECT_EQ(lb::remove_stale_temporaries(out), 3u); // dead, dead_here, dead_there_old
    std::vector<std::string> want{dead_fresh, alive, other_output, unrelated, dead_there, alive_here};
    std::sort(want.begin(), want.end());
    EXPECT_EQ(sorted_entries(dir), want);

    // a new AtomicFile for the same output cleans up the same way
    testdata::write_file(dir.file(dead), {1});
    age(dir.file(dead), 3600);
    AtomicFile f(out);
    EXPECT_EQ(sorted_entries(dir), want);
}

} // namespace
