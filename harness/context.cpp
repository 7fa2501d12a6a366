#include "harness/context.h"

#include <cuda_runtime_api.h>
#include <dlfcn.h>

#include "harness/peer_cublaslt.h"
#include "harness/peer_cusparselt.h"
#include "harness/reference_cublas.h"
#include "sparse24_commit.h"

namespace sparse24::harness {

namespace {

// The few NVML entry points we use, resolved with dlopen: linking libnvidia-ml would make the binary fail to
// start on a machine without the driver, where it must instead say "no GPU" and exit 2.
struct Nvml {
  using Device = void*;
  int (*init)() = nullptr;
  int (*by_pci)(const char*, Device*) = nullptr;
  int (*clock)(Device, int, unsigned*) = nullptr;
  int (*max_clock)(Device, int, unsigned*) = nullptr;
  int (*driver)(char*, unsigned) = nullptr;
  // Optional (energy, timing.h): absent on old drivers and on GPUs without the counter; the rest works without.
  int (*total_energy)(Device, unsigned long long*) = nullptr;  // mJ since the driver loaded
  int (*power)(Device, unsigned*) = nullptr;                    // mW, the board's current draw
  // Optional (gpu_state): the GPU's state beside a timed loop.
  int (*temperature)(Device, int, unsigned*) = nullptr;          // nvmlDeviceGetTemperature
  int (*clock_reasons)(Device, unsigned long long*) = nullptr;   // nvmlDeviceGetCurrentClocks{Event,Throttle}Reasons
  // nvmlFieldValue_t as nvml.h lays it out (the header is not part of every CUDA toolkit install; NVML's ABI is
  // stable): field id, scope id, timestamp, latency, value type, return code, value (a union of 8 bytes).
  struct FieldValue {
    unsigned field_id, scope_id;
    long long timestamp, latency_us;
    int value_type, nvml_return;
    union {
      double d;
      unsigned ui;
      unsigned long ul;
      unsigned long long ull;
      long long sll;
    } value;
  };
  int (*field_values)(Device, int, FieldValue*) = nullptr;        // nvmlDeviceGetFieldValues
  bool ok = false;
  static constexpr int kClockSm = 1;     // NVML_CLOCK_SM
  static constexpr int kClockMem = 2;    // NVML_CLOCK_MEM
  static constexpr int kTempGpu = 0;     // NVML_TEMPERATURE_GPU
  static constexpr unsigned kFieldMemoryTemp = 82;  // NVML_FI_DEV_MEMORY_TEMP

  Nvml() {
    void* h = dlopen("libnvidia-ml.so.1", RTLD_NOW | RTLD_LOCAL);
    if (!h) return;
    init = reinterpret_cast<int (*)()>(dlsym(h, "nvmlInit_v2"));
    by_pci = reinterpret_cast<int (*)(const char*, Device*)>(dlsym(h, "nvmlDeviceGetHandleByPciBusId_v2"));
    clock = reinterpret_cast<int (*)(Device, int, unsigned*)>(dlsym(h, "nvmlDeviceGetClockInfo"));
    max_clock = reinterpret_cast<int (*)(Device, int, unsigned*)>(dlsym(h, "nvmlDeviceGetMaxClockInfo"));
    driver = reinterpret_cast<int (*)(char*, unsigned)>(dlsym(h, "nvmlSystemGetDriverVersion"));
    total_energy =
        reinterpret_cast<int (*)(Device, unsigned long long*)>(dlsym(h, "nvmlDeviceGetTotalEnergyConsumption"));
    power = reinterpret_cast<int (*)(Device, unsigned*)>(dlsym(h, "nvmlDeviceGetPowerUsage"));
    temperature = reinterpret_cast<int (*)(Device, int, unsigned*)>(dlsym(h, "nvmlDeviceGetTemperature"));
    void* reasons = dlsym(h, "nvmlDeviceGetCurrentClocksEventReasons");
    if (!reasons) reasons = dlsym(h, "nvmlDeviceGetCurrentClocksThrottleReasons");
    clock_reasons = reinterpret_cast<int (*)(Device, unsigned long long*)>(reasons);
    field_values = reinterpret_cast<int (*)(Device, int, FieldValue*)>(dlsym(h, "nvmlDeviceGetFieldValues"));
    ok = init && by_pci && clock && max_clock && driver && init() == 0;
  }
  bool device(int cuda_device, Device* d) const {
    char bus[64];
    return ok && cudaDeviceGetPCIBusId(bus, sizeof bus, cuda_device) == cudaSuccess && by_pci(bus, d) == 0;
  }
};

const Nvml& nvml() {
  static const Nvml n;
  return n;
}

std::string version_string(int v) {  // CUDA's 1000 * major + 10 * minor
  return std::to_string(v / 1000) + "." + std::to_string((v % 1000) / 10);
}

}  // namespace

int cuda_device_count(std::string* why) {
  int n = 0;
  const cudaError_t e = cudaGetDeviceCount(&n);
  if (e != cudaSuccess) {
    if (why) *why = cudaGetErrorString(e);
    cudaGetLastError();  // clear it: the caller decides what to do without a GPU
    return 0;
  }
  if (n == 0 && why) *why = "the driver reports no CUDA device";
  return n;
}

int compute_capability(int device) {
  int major = 0, minor = 0;
  cudaDeviceGetAttribute(&major, cudaDevAttrComputeCapabilityMajor, device);
  cudaDeviceGetAttribute(&minor, cudaDevAttrComputeCapabilityMinor, device);
  return major * 10 + minor;
}

int sm_clock_mhz(int device) {
  Nvml::Device d;
  unsigned mhz = 0;
  if (!nvml().device(device, &d) || nvml().clock(d, Nvml::kClockSm, &mhz) != 0) return -1;
  return static_cast<int>(mhz);
}

GpuState gpu_state(int device) {
  GpuState g;
  Nvml::Device d;
  const Nvml& n = nvml();
  if (!n.device(device, &d)) return g;
  unsigned u = 0;
  if (n.clock(d, Nvml::kClockMem, &u) == 0) g.mem_clock_mhz = static_cast<int>(u);
  if (n.temperature && n.temperature(d, Nvml::kTempGpu, &u) == 0) g.gpu_temp_c = static_cast<int>(u);
  unsigned long long r = 0;
  if (n.clock_reasons && n.clock_reasons(d, &r) == 0) g.clock_event_reasons = static_cast<long long>(r);
  Nvml::FieldValue f{};
  f.field_id = Nvml::kFieldMemoryTemp;
  if (n.field_values && n.field_values(d, 1, &f) == 0 && f.nvml_return == 0) {
    switch (f.value_type) {  // nvmlValueType_t: double, unsigned int, unsigned long, unsigned long long, long long
      case 0: g.mem_temp_c = static_cast<int>(f.value.d); break;
      case 1: g.mem_temp_c = static_cast<int>(f.value.ui); break;
      case 2: g.mem_temp_c = static_cast<int>(f.value.ul); break;
      case 3: g.mem_temp_c = static_cast<int>(f.value.ull); break;
      case 4: g.mem_temp_c = static_cast<int>(f.value.sll); break;
      default: break;
    }
  }
  return g;
}

double total_energy_mj(int device) {
  Nvml::Device d;
  unsigned long long mj = 0;
  if (!nvml().total_energy || !nvml().device(device, &d) || nvml().total_energy(d, &mj) != 0) return -1;
  return static_cast<double>(mj);
}

double power_mw(int device) {
  Nvml::Device d;
  unsigned mw = 0;
  if (!nvml().power || !nvml().device(device, &d) || nvml().power(d, &mw) != 0) return -1;
  return static_cast<double>(mw);
}

const char* commit() { return SPARSE24_COMMIT; }

std::vector<std::pair<std::string, std::string>> run_context(int device) {
  std::vector<std::pair<std::string, std::string>> c;
  cudaDeviceProp p{};
  cudaGetDeviceProperties(&p, device);
  int driver = 0, runtime = 0;
  cudaDriverGetVersion(&driver);
  cudaRuntimeGetVersion(&runtime);
  c.emplace_back("gpu", p.name);
  c.emplace_back("sm_count", std::to_string(p.multiProcessorCount));
  c.emplace_back("compute_capability", std::to_string(p.major) + "." + std::to_string(p.minor));
  c.emplace_back("l2_bytes", std::to_string(p.l2CacheSize));
  c.emplace_back("memory_bytes", std::to_string(p.totalGlobalMem));
  std::string drv = "CUDA " + version_string(driver);
  Nvml::Device d;
  char buf[96] = {0};
  if (nvml().device(device, &d) && nvml().driver(buf, sizeof buf) == 0) drv = std::string(buf) + " (" + drv + ")";
  c.emplace_back("driver", drv);
  c.emplace_back("cuda_runtime", version_string(runtime));
  c.emplace_back("cublas", CublasRef::version());
  c.emplace_back("cublaslt", CublasLtPeer::version());
  c.emplace_back("cusparselt", CusparseltPeer::version());
  c.emplace_back("commit", commit());
  // How every row was checked and what the peer rows are (README, "Checks" and "Peers").
  c.emplace_back("reference", "f64 cublasDgemm (pedantic math) on the upcast operands, rounded once to f32");
  c.emplace_back("check_element_bound", "|d - ref| <= u_out |ref| + 6 K 2^-24 sum_k |a||x| + tiny_out");
  c.emplace_back("peer_cublas", "cublasLtMatmul TN, f32 compute, f32-only split-K reduction, fastest checked "
                                "heuristic candidate (L2 flushed), leading dimensions padded to 16 bytes");
  c.emplace_back("peer_cusparselt", "cusparseLtMatmul, fastest checked of cusparseLtMatmulSearch's pick and every "
                                    "algorithm id x split-K (L2 flushed), leading dimensions padded to 16 bytes");
  unsigned max_mhz = 0;
  if (nvml().device(device, &d) && nvml().max_clock(d, Nvml::kClockSm, &max_mhz) == 0)
    c.emplace_back("sm_clock_max_mhz", std::to_string(max_mhz));
  c.emplace_back("sm_clock_mhz_at_start", std::to_string(sm_clock_mhz(device)));
  return c;
}

}  // namespace sparse24::harness
