// The run's context: which GPU, clocks, driver and library versions, which commit. Written into every JSON.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace sparse24::harness {

// Number of CUDA devices, 0 when there is none or no driver (never throws).
int cuda_device_count(std::string* why = nullptr);

// Key/value pairs: gpu, sm_count, compute_capability, l2_bytes, memory_bytes, driver, cuda_runtime, cublas,
// cusparselt, commit, sm_clock_mhz (now), sm_clock_max_mhz.
std::vector<std::pair<std::string, std::string>> run_context(int device);

// The SM clock right now, read through NVML (loaded at run time, so the binary runs where NVML is absent); -1 if
// it cannot be read.
int sm_clock_mhz(int device);

// What else NVML says about the GPU's state at one moment, for a timed loop's record (Runner::timed_loop): the memory
// clock (NVML_CLOCK_MEM), the GPU's and the HBM's temperature (nvmlDeviceGetTemperature, GPU sensor;
// nvmlDeviceGetFieldValues, NVML_FI_DEV_MEMORY_TEMP), and the clock-event reasons in force (the bitmask of
// nvmlDeviceGetCurrentClocksEventReasons, formerly ...ThrottleReasons: 0x4 software power cap, 0x8 hardware
// slowdown, 0x20 / 0x40 software / hardware thermal slowdown, 0x80 power brake). -1 for each one that cannot be read.
struct GpuState {
  int mem_clock_mhz = -1;
  int gpu_temp_c = -1;
  int mem_temp_c = -1;
  long long clock_event_reasons = -1;
};
GpuState gpu_state(int device);

// The board's energy counter (nvmlDeviceGetTotalEnergyConsumption: mJ since the driver loaded; Volta and later) and
// its power draw (nvmlDeviceGetPowerUsage, mW); -1 if NVML, the device or the counter is absent.
double total_energy_mj(int device);
double power_mw(int device);

// Compute capability as major*10+minor.
int compute_capability(int device);

const char* commit();

}  // namespace sparse24::harness
