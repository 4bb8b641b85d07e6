/**
 * Which GPU the WebGPU execution provider runs on, for the run's record. onnxruntime-node does not say which
 * adapter Dawn picked, so on Linux (where Dawn uses Vulkan) the Vulkan devices are listed here through the system's
 * Vulkan loader (koffi, the foreign-function interface clip-bench already uses for libturbojpeg), and the one Dawn
 * prefers when onnxruntime asks for a high-performance adapter is reported: a discrete GPU, else an integrated one,
 * else the rest (a virtual GPU, then a CPU implementation such as Mesa's lavapipe).
 */
import { createRequire } from 'node:module';

export interface GpuAdapter {
  /** the device's name, e.g. "NVIDIA H100 80GB HBM3" or "llvmpipe (LLVM 19.1.7, 256 bits)" */
  name: string;
  /** the driver's name and version, e.g. "NVIDIA 550.54.15" or "llvmpipe Mesa 25.0.7-2~bpo12+1 (LLVM 19.1.7)" */
  driver: string;
  /** Vulkan's device type: discrete GPU, integrated GPU, virtual GPU, CPU or other */
  type: string;
}

const DEVICE_TYPES = ['other', 'integrated GPU', 'discrete GPU', 'virtual GPU', 'CPU'];
/** Dawn's order for a high-performance request (VkPhysicalDeviceType values) */
const PREFERENCE = [2, 1, 3, 4, 0];

const VK_STRUCTURE_TYPE_APPLICATION_INFO = 0;
const VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO = 1;
const VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROPERTIES_2 = 1000059001;
const VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_DRIVER_PROPERTIES = 1000196000;
const VK_API_VERSION_1_2 = (1 << 22) | (2 << 12);

/** The adapter Dawn would pick among the machine's Vulkan devices, or null (no loader, no device, not Linux). */
export function preferredVulkanAdapter(): GpuAdapter | null {
  const all = vulkanAdapters();
  if (!all || all.length === 0) return null;
  const rank = (a: { typeId: number }) => PREFERENCE.indexOf(a.typeId);
  const best = [...all].sort((a, b) => rank(a) - rank(b))[0]!;
  return { name: best.name, driver: best.driver, type: best.type };
}

/** Every Vulkan physical device (Vulkan 1.2 drivers: name, driver name and info), or null without a loader. */
export function vulkanAdapters(): (GpuAdapter & { typeId: number })[] | null {
  if (process.platform !== 'linux') return null;
  let koffi: typeof import('koffi');
  try {
    koffi = createRequire(import.meta.url)('koffi') as typeof import('koffi');
  } catch {
    return null;
  }
  let lib: ReturnType<typeof koffi.load>;
  try {
    lib = koffi.load('libvulkan.so.1');
  } catch {
    return null;
  }
  const AppInfo = koffi.struct({
    sType: 'int', pNext: 'void *', pApplicationName: 'const char *', applicationVersion: 'uint32_t',
    pEngineName: 'const char *', engineVersion: 'uint32_t', apiVersion: 'uint32_t',
  });
  const CreateInfo = koffi.struct({
    sType: 'int', pNext: 'void *', flags: 'uint32_t', pApplicationInfo: koffi.pointer(AppInfo),
    enabledLayerCount: 'uint32_t', ppEnabledLayerNames: 'void *', enabledExtensionCount: 'uint32_t', ppEnabledExtensionNames: 'void *',
  });
  const Properties = koffi.struct({
    apiVersion: 'uint32_t', driverVersion: 'uint32_t', vendorID: 'uint32_t', deviceID: 'uint32_t', deviceType: 'int',
    deviceName: koffi.array('char', 256, 'String'), pipelineCacheUUID: koffi.array('uint8_t', 16),
    // VkPhysicalDeviceLimits and VkPhysicalDeviceSparseProperties, not read here (824 bytes in all, 8-aligned)
    rest: koffi.array('uint8_t', 824 - 292 - 4), pad: 'uint32_t',
  });
  const Properties2 = koffi.struct({ sType: 'int', pNext: 'void *', properties: Properties });
  const DriverProperties = koffi.struct({
    sType: 'int', pNext: 'void *', driverID: 'int', driverName: koffi.array('char', 256, 'String'),
    driverInfo: koffi.array('char', 256, 'String'), conformanceVersion: koffi.array('uint8_t', 4),
  });
  const createInstance = lib.func('int vkCreateInstance(void *info, void *allocator, _Out_ void **instance)');
  const destroyInstance = lib.func('void vkDestroyInstance(void *instance, void *allocator)');
  const enumerate = lib.func('int vkEnumeratePhysicalDevices(void *instance, _Inout_ uint32_t *count, void *devices)');
  const getProperties2 = lib.func('void vkGetPhysicalDeviceProperties2(void *device, void *properties)');

  const info = koffi.alloc(CreateInfo, 1);
  const app = koffi.alloc(AppInfo, 1);
  koffi.encode(app, AppInfo, { sType: VK_STRUCTURE_TYPE_APPLICATION_INFO, pNext: null, pApplicationName: null, applicationVersion: 0, pEngineName: null, engineVersion: 0, apiVersion: VK_API_VERSION_1_2 });
  koffi.encode(info, CreateInfo, {
    sType: VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO, pNext: null, flags: 0, pApplicationInfo: app,
    enabledLayerCount: 0, ppEnabledLayerNames: null, enabledExtensionCount: 0, ppEnabledExtensionNames: null,
  });
  const instance: unknown[] = [null];
  try {
    if (createInstance(info, null, instance) !== 0 || !instance[0]) return [];
    const count = [0];
    if (enumerate(instance[0], count, null) !== 0 || count[0] === 0) return [];
    const handles = koffi.alloc('void *', count[0]!);
    const out: (GpuAdapter & { typeId: number })[] = [];
    try {
      if (enumerate(instance[0], count, handles) !== 0) return [];
      const devices = koffi.decode(handles, 'void *', count[0]!) as unknown[];
      for (const device of devices) {
        const driver = koffi.alloc(DriverProperties, 1);
        const props = koffi.alloc(Properties2, 1);
        try {
          koffi.encode(driver, DriverProperties, { sType: VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_DRIVER_PROPERTIES, pNext: null });
          koffi.encode(props, Properties2, { sType: VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROPERTIES_2, pNext: driver });
          getProperties2(device, props);
          const p = (koffi.decode(props, Properties2) as { properties: { deviceName: string; deviceType: number } }).properties;
          const d = koffi.decode(driver, DriverProperties) as { driverName: string; driverInfo: string };
          out.push({
            name: p.deviceName,
            driver: [d.driverName, d.driverInfo].filter(Boolean).join(' '),
            type: DEVICE_TYPES[p.deviceType] ?? 'other',
            typeId: p.deviceType,
          });
        } finally {
          koffi.free(driver);
          koffi.free(props);
        }
      }
      return out;
    } finally {
      koffi.free(handles);
    }
  } catch {
    return null;
  } finally {
    if (instance[0]) destroyInstance(instance[0], null);
    koffi.free(info);
    koffi.free(app);
  }
}
