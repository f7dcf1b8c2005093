// TSC cycles per AES-128-GCM seal of one MACsec frame (default 74 bytes written: 28 bytes of
// AAD up to the end of the SecTAG with SCI, 30 bytes encrypted, 16-byte ICV), for every way
// intel-ipsec-mb 1.3 offers to compute it (direct API on the sse/avx/avx2/avx512 managers,
// job API, asynchronous burst API, AES-ECB keystream per burst + GHASH per frame), for
// OpenSSL, for netscope's AesGcm, and for sealing right after writing a frame versus after
// writing the whole burst (what Generator::next_burst does).
// Usage: bench_gcm [frames per burst, default 32] [secure data bytes, default 30]
// Each case: best of 301 rounds of 2^14 frames (short rounds dodge other tenants of a
// shared VM); every case's output is checked against OpenSSL's before it is timed.
#define NO_COMPAT_IMB_API_053 1
#include <intel-ipsec-mb.h>
#include <openssl/evp.h>
#include <x86intrin.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <span>
#include <string>
#include <vector>

#include "netscope/packet/crypto.hpp"

namespace {

using netscope::packet::AesGcm;
using netscope::packet::GcmBackend;

constexpr std::size_t kAad = 28;
std::size_t g_data = 30;
std::size_t g_burst = 32;
constexpr std::size_t kFrames = 1u << 14;
const std::array<std::uint8_t, 16> kKey = {0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77,
                                           0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff};

struct Frame {
  alignas(64) std::uint8_t bytes[2048];
};

/// A burst of frames: AAD | data | tag, each frame in its own 2 KiB buffer like an mbuf.
struct Burst {
  std::vector<Frame> frames;
  std::vector<std::array<std::uint8_t, 12>> ivs;
  explicit Burst(std::size_t n) : frames(n), ivs(n) { reset(0); }
  void reset(std::uint32_t pn) {
    for (std::size_t i = 0; i < frames.size(); ++i) {
      for (std::size_t b = 0; b < kAad + g_data; ++b) frames[i].bytes[b] = static_cast<std::uint8_t>(b * 7 + i);
      for (std::size_t b = 0; b < 8; ++b) ivs[i][b] = static_cast<std::uint8_t>(0x12 + b);
      const std::uint32_t p = pn + static_cast<std::uint32_t>(i);
      ivs[i][8] = static_cast<std::uint8_t>(p >> 24);
      ivs[i][9] = static_cast<std::uint8_t>(p >> 16);
      ivs[i][10] = static_cast<std::uint8_t>(p >> 8);
      ivs[i][11] = static_cast<std::uint8_t>(p);
    }
  }
  std::uint8_t* aad(std::size_t i) { return frames[i].bytes; }
  std::uint8_t* data(std::size_t i) { return frames[i].bytes + kAad; }
  std::uint8_t* tag(std::size_t i) { return frames[i].bytes + kAad + g_data; }
};

using SealBurst = std::function<void(Burst&)>;

std::vector<std::uint8_t> reference(Burst& b) {
  AesGcm ref(kKey, GcmBackend::openssl);
  std::vector<std::uint8_t> out;
  for (std::size_t i = 0; i < b.frames.size(); ++i) {
    ref.seal(b.ivs[i], {b.aad(i), kAad}, {b.data(i), g_data},
             std::span<std::uint8_t, 16>(b.tag(i), 16));
    out.insert(out.end(), b.frames[i].bytes, b.frames[i].bytes + kAad + g_data + 16);
  }
  return out;
}

void run(const char* name, const SealBurst& seal, bool check = true) {
  Burst b(g_burst);
  const std::vector<std::uint8_t> want = reference(b);
  b.reset(0);
  seal(b);
  std::vector<std::uint8_t> got;
  for (auto& f : b.frames) got.insert(got.end(), f.bytes, f.bytes + kAad + g_data + 16);
  if (check && got != want) {
    std::printf("%-44s WRONG OUTPUT\n", name);
    std::exit(1);
  }
  double best = 1e30;
  for (int round = 0; round < 301; ++round) {
    const std::uint64_t t0 = __rdtsc();
    for (std::size_t done = 0; done < kFrames; done += g_burst) seal(b);
    const std::uint64_t t1 = __rdtsc();
    best = std::min(best, static_cast<double>(t1 - t0) / static_cast<double>(kFrames));
  }
  std::printf("%-44s %8.1f cycles/frame\n", name, best);
}

IMB_MGR* manager(const char* arch) {
  IMB_MGR* m = alloc_mb_mgr(0);
  if (m == nullptr) std::exit(2);
  const std::string a = arch;
  if (a == "sse") init_mb_mgr_sse(m);
  else if (a == "avx") init_mb_mgr_avx(m);
  else if (a == "avx2") init_mb_mgr_avx2(m);
  else init_mb_mgr_avx512(m);
  if (imb_get_errno(m) != 0) {
    std::printf("init %s: %s\n", arch, imb_get_strerror(imb_get_errno(m)));
    std::exit(2);
  }
  return m;
}

struct alignas(64) Keys {
  gcm_key_data gcm;
  alignas(16) std::uint8_t enc[16 * 15];
  alignas(16) std::uint8_t dec[16 * 15];
};

}  // namespace

int main(int argc, char** argv) {
  if (argc > 1) g_burst = std::strtoul(argv[1], nullptr, 10);
  if (argc > 2) g_data = std::strtoul(argv[2], nullptr, 10);
  if (g_burst == 0 || g_burst > IMB_MAX_BURST_SIZE || g_data > 1500) {
    std::fprintf(stderr, "usage: bench_gcm [burst 1-%d] [data bytes 0-1500]\n", IMB_MAX_BURST_SIZE);
    return 2;
  }
  std::printf("intel-ipsec-mb %s; %zu bytes AAD, %zu bytes encrypted, bursts of %zu\n",
              imb_get_version_str(), kAad, g_data, g_burst);
  {
    IMB_MGR* m = alloc_mb_mgr(0);
    IMB_ARCH arch = IMB_ARCH_NONE;
    init_mb_mgr_auto(m, &arch);
    std::printf("init_mb_mgr_auto: arch %d (5 = avx512), features 0x%llx: VAES %d VPCLMULQDQ %d "
                "SAFE_DATA %d\n",
                static_cast<int>(arch), static_cast<unsigned long long>(m->features),
                (m->features & IMB_FEATURE_VAES) != 0, (m->features & IMB_FEATURE_VPCLMULQDQ) != 0,
                (m->features & IMB_FEATURE_SAFE_DATA) != 0);
    free_mb_mgr(m);
  }

  for (const char* arch : {"sse", "avx", "avx2", "avx512"}) {
    IMB_MGR* m = manager(arch);
    auto* k = static_cast<Keys*>(std::aligned_alloc(64, sizeof(Keys)));
    IMB_AES128_GCM_PRE(m, kKey.data(), &k->gcm);
    const std::string name = std::string("direct IMB_AES128_GCM_ENC, ") + arch;
    run(name.c_str(), [m, k](Burst& b) {
      for (std::size_t i = 0; i < b.frames.size(); ++i) {
        gcm_context_data ctx;
        IMB_AES128_GCM_ENC(m, &k->gcm, &ctx, b.data(i), b.data(i), g_data, b.ivs[i].data(),
                           b.aad(i), kAad, b.tag(i), 16);
      }
    });
  }

  {
    // As the generator runs: each frame is first written (a template copied in, the PN
    // patched), then sealed. Sealing right after writing makes the cipher's wide loads read
    // bytes still in the store buffer; sealing the burst after writing all of it does not.
    IMB_MGR* mm = manager("avx512");
    auto* kk = static_cast<Keys*>(std::aligned_alloc(64, sizeof(Keys)));
    IMB_AES128_GCM_PRE(mm, kKey.data(), &kk->gcm);
    static std::vector<std::uint8_t> tmpl;
    const auto write = [](Burst& b, std::size_t i) {
      if (tmpl.empty()) {
        Burst t(1);
        tmpl.assign(t.frames[0].bytes, t.frames[0].bytes + kAad + g_data + 16);
        for (std::size_t x = 0; x < tmpl.size(); ++x) tmpl[x] = static_cast<std::uint8_t>(x * 7 + i);
      }
      std::uint8_t* f = b.frames[i].bytes;
      std::memcpy(f, tmpl.data(), tmpl.size());
      for (std::size_t x = 0; x < kAad + g_data; ++x) f[x] = static_cast<std::uint8_t>(x * 7 + i);
    };
    (void)write;
    // Per frame image as Burst::reset writes it, prepared once.
    static std::vector<std::array<std::uint8_t, 128>> images;
    images.resize(IMB_MAX_BURST_SIZE);
    for (std::size_t i = 0; i < images.size(); ++i) {
      for (std::size_t x = 0; x < 128; ++x) images[i][x] = static_cast<std::uint8_t>(x * 7 + i);
    }
    const auto fresh = [](Burst& b, std::size_t i) {
      // Stored 16 and 4 bytes at a time like build_fast (template copy, then PN patch).
      std::uint8_t* f = b.frames[i].bytes;
      const std::uint8_t* src = images[i].data();
      for (int q = 0; q < 4; ++q) {
        _mm_storeu_si128(reinterpret_cast<__m128i*>(f) + q,
                         _mm_loadu_si128(reinterpret_cast<const __m128i*>(src) + q));
      }
      std::uint32_t pn;
      std::memcpy(&pn, src + 16, 4);
      asm volatile("" : "+r"(pn));
      std::memcpy(f + 16, &pn, 4);
    };
    run("write the burst (no seal)", [&fresh](Burst& b) {
      for (std::size_t i = 0; i < b.frames.size(); ++i) fresh(b, i);
    }, false);
    run("write frame, then seal it (per frame), avx512", [mm, kk, &fresh](Burst& b) {
      for (std::size_t i = 0; i < b.frames.size(); ++i) {
        fresh(b, i);
        gcm_context_data ctx;
        IMB_AES128_GCM_ENC(mm, &kk->gcm, &ctx, b.data(i), b.data(i), g_data, b.ivs[i].data(),
                           b.aad(i), kAad, b.tag(i), 16);
      }
    });
    run("write the burst, mfence, seal the burst, avx512", [mm, kk, &fresh](Burst& b) {
      for (std::size_t i = 0; i < b.frames.size(); ++i) fresh(b, i);
      _mm_mfence();
      for (std::size_t i = 0; i < b.frames.size(); ++i) {
        gcm_context_data ctx;
        IMB_AES128_GCM_ENC(mm, &kk->gcm, &ctx, b.data(i), b.data(i), g_data, b.ivs[i].data(),
                           b.aad(i), kAad, b.tag(i), 16);
      }
    });
    run("write the burst, then seal the burst, avx512", [mm, kk, &fresh](Burst& b) {
      for (std::size_t i = 0; i < b.frames.size(); ++i) fresh(b, i);
      for (std::size_t i = 0; i < b.frames.size(); ++i) {
        gcm_context_data ctx;
        IMB_AES128_GCM_ENC(mm, &kk->gcm, &ctx, b.data(i), b.data(i), g_data, b.ivs[i].data(),
                           b.aad(i), kAad, b.tag(i), 16);
      }
    });
  }

  IMB_MGR* m = manager("avx512");
  auto* k = static_cast<Keys*>(std::aligned_alloc(64, sizeof(Keys)));
  IMB_AES128_GCM_PRE(m, kKey.data(), &k->gcm);
  IMB_AES_KEYEXP_128(m, kKey.data(), k->enc, k->dec);

  const auto fill_gcm_job = [k](IMB_JOB* job, Burst& b, std::size_t i) {
    job->cipher_mode = IMB_CIPHER_GCM;
    job->hash_alg = IMB_AUTH_AES_GMAC;
    job->cipher_direction = IMB_DIR_ENCRYPT;
    job->chain_order = IMB_ORDER_CIPHER_HASH;
    job->enc_keys = &k->gcm;
    job->dec_keys = &k->gcm;
    job->key_len_in_bytes = IMB_KEY_128_BYTES;
    job->src = b.data(i);
    job->dst = b.data(i);
    job->cipher_start_src_offset_in_bytes = 0;
    job->msg_len_to_cipher_in_bytes = g_data;
    job->hash_start_src_offset_in_bytes = 0;
    job->msg_len_to_hash_in_bytes = g_data;
    job->iv = b.ivs[i].data();
    job->iv_len_in_bytes = 12;
    job->u.GCM.aad = b.aad(i);
    job->u.GCM.aad_len_in_bytes = kAad;
    job->auth_tag_output = b.tag(i);
    job->auth_tag_output_len_in_bytes = 16;
  };

  run("job API GCM (GET_NEXT/SUBMIT), avx512", [m, &fill_gcm_job](Burst& b) {
    for (std::size_t i = 0; i < b.frames.size(); ++i) {
      IMB_JOB* job = IMB_GET_NEXT_JOB(m);
      fill_gcm_job(job, b, i);
      IMB_SUBMIT_JOB(m);
    }
    while (IMB_FLUSH_JOB(m) != nullptr) {
    }
  });

  run("burst API GCM (IMB_SUBMIT_BURST), avx512", [m, &fill_gcm_job](Burst& b) {
    IMB_JOB* jobs[IMB_MAX_BURST_SIZE];
    const auto n = static_cast<std::uint32_t>(b.frames.size());
    while (IMB_GET_NEXT_BURST(m, n, jobs) < n) IMB_FLUSH_BURST(m, n, jobs);
    for (std::uint32_t i = 0; i < n; ++i) fill_gcm_job(jobs[i], b, i);
    std::uint32_t done = IMB_SUBMIT_BURST(m, n, jobs);
    while (done < n) done += IMB_FLUSH_BURST(m, n - done, jobs);
  });

  // GCM from its two parts: one AES-ECB job makes every counter block's keystream of the
  // burst (E(J0) for the tag and E(J0+1..) for the data), then per frame one GHASH call
  // over AAD || 0-pad || C || 0-pad || lengths.
  std::vector<std::uint8_t> ctr(IMB_MAX_BURST_SIZE * 96 * 16 + 64);
  std::vector<std::uint8_t> scratch(2048);
  run("ECB keystream per burst + IMB_GHASH, avx512", [m, k, &ctr, &scratch](Burst& b) {
    const std::size_t blocks = 1 + (g_data + 15) / 16;
    std::uint8_t* c = ctr.data();
    for (std::size_t i = 0; i < b.frames.size(); ++i) {
      for (std::size_t j = 0; j < blocks; ++j) {
        std::uint8_t* blk = c + (i * blocks + j) * 16;
        std::memcpy(blk, b.ivs[i].data(), 12);
        const std::uint32_t n = static_cast<std::uint32_t>(j + 1);
        blk[12] = 0; blk[13] = 0; blk[14] = static_cast<std::uint8_t>(n >> 8);
        blk[15] = static_cast<std::uint8_t>(n);
      }
    }
    IMB_JOB* job = IMB_GET_NEXT_JOB(m);
    job->cipher_mode = IMB_CIPHER_ECB;
    job->hash_alg = IMB_AUTH_NULL;
    job->cipher_direction = IMB_DIR_ENCRYPT;
    job->chain_order = IMB_ORDER_CIPHER_HASH;
    job->enc_keys = k->enc;
    job->dec_keys = k->dec;
    job->key_len_in_bytes = IMB_KEY_128_BYTES;
    job->src = c;
    job->dst = c;
    job->cipher_start_src_offset_in_bytes = 0;
    job->msg_len_to_cipher_in_bytes = b.frames.size() * blocks * 16;
    job->iv = nullptr;
    job->iv_len_in_bytes = 0;
    IMB_SUBMIT_JOB(m);
    while (IMB_FLUSH_JOB(m) != nullptr) {
    }
    for (std::size_t i = 0; i < b.frames.size(); ++i) {
      const std::uint8_t* ks = c + i * blocks * 16;
      std::uint8_t* d = b.data(i);
      for (std::size_t x = 0; x < g_data; ++x) d[x] ^= ks[16 + x];
      std::uint8_t* buf = scratch.data();
      const std::size_t a_pad = (kAad + 15) / 16 * 16;
      const std::size_t c_pad = (g_data + 15) / 16 * 16;
      std::memcpy(buf, b.aad(i), kAad);
      std::memset(buf + kAad, 0, a_pad - kAad);
      std::memcpy(buf + a_pad, d, g_data);
      std::memset(buf + a_pad + g_data, 0, c_pad - g_data);
      const std::uint64_t abits = __builtin_bswap64(kAad * 8);
      const std::uint64_t cbits = __builtin_bswap64(g_data * 8);
      std::memcpy(buf + a_pad + c_pad, &abits, 8);
      std::memcpy(buf + a_pad + c_pad + 8, &cbits, 8);
      alignas(16) std::uint8_t y[16] = {};
      IMB_GHASH(m, &k->gcm, buf, a_pad + c_pad + 16, y, 16);
      for (int x = 0; x < 16; ++x) b.tag(i)[x] = static_cast<std::uint8_t>(y[x] ^ ks[x]);
    }
  });

  for (GcmBackend be : {GcmBackend::openssl, GcmBackend::ipsec_mb}) {
    AesGcm g(kKey, be);
    const std::string name = std::string("netscope AesGcm::seal, ") +
                             (be == GcmBackend::openssl ? "OpenSSL" : "ipsec-mb");
    run(name.c_str(), [&g](Burst& b) {
      for (std::size_t i = 0; i < b.frames.size(); ++i) {
        g.seal(b.ivs[i], {b.aad(i), kAad}, {b.data(i), g_data},
               std::span<std::uint8_t, 16>(b.tag(i), 16));
      }
    });
  }
  return 0;
}
