import VigilDrivers
import VigilHAL
import VigilBase

/// The concrete hardware types one backend provides. The node's cycle is generic over it, so the
/// loop body calls drivers through static dispatch (no existentials on the real-time path).
public protocol NodePlatform {
    associatedtype Bus: I2CBus
    associatedtype Chip: GPIOChip
    associatedtype Modbus: ModbusClient
}

/// The accelerometer parts a profile can name, over one bus type.
public enum AccelerometerDriver<Bus: I2CBus> {
    case adxl345(ADXL345<Bus>)
    case lis3dh(LIS3DH<Bus>)

    public var sensor: any Accelerometer {
        switch self {
        case .adxl345(let d): return d
        case .lis3dh(let d): return d
        }
    }

    func start() throws(HALError) {
        switch self {
        case .adxl345(let d): try d.start()
        case .lis3dh(let d): try d.start()
        }
    }

    func drain(into buffer: UnsafeMutableBufferPointer<AccelerationSample>) throws(HALError) -> FIFODrain {
        switch self {
        case .adxl345(let d): return try d.drain(into: buffer)
        case .lis3dh(let d): return try d.drain(into: buffer)
        }
    }

    var fullScaleG: Double {
        switch self {
        case .adxl345(let d): return d.fullScaleG
        case .lis3dh(let d): return d.fullScaleG
        }
    }

    func q15(_ count: Int16) -> Int16 {
        switch self {
        case .adxl345(let d): return d.q15(count).rawValue
        case .lis3dh(let d): return d.q15(count).rawValue
        }
    }
}
