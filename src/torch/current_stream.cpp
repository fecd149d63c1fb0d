// torch's current CUDA stream of a device, through c10's device-generic interface, so that
// no CUDA header is needed to build it. The CUDA implementation is registered when
// libc10_cuda is loaded; without it the answer is "none".
#include <c10/core/Device.h>
#include <c10/core/Stream.h>
#include <c10/core/impl/DeviceGuardImplInterface.h>

extern "C" int pixmix_torch_current_cuda_stream(int device, void** stream) {
  try {
    if (!c10::impl::hasDeviceGuardImpl(c10::DeviceType::CUDA)) {
      return 1;
    }
    const auto* impl = c10::impl::getDeviceGuardImpl(c10::DeviceType::CUDA);
    c10::Device cuda(c10::DeviceType::CUDA, static_cast<c10::DeviceIndex>(device));
    *stream = impl->getStream(cuda).native_handle();
    return 0;
  } catch (...) {
    return 2;
  }
}
