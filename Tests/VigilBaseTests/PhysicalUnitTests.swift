import Testing
import VigilBase

@Suite struct PhysicalUnitTests {
    @Test func accelerationConvertsThroughStandardGravity() throws {
        let ms2 = try #require(PhysicalUnit.g.convert(1, to: .metersPerSecondSquared))
        #expect(abs(ms2 - 9.80665) < 1e-12)
        let mg = try #require(PhysicalUnit.metersPerSecondSquared.convert(9.80665, to: .milliG))
        #expect(abs(mg - 1000) < 1e-9)
    }

    @Test func velocityAndTemperatureConversions() throws {
        #expect(abs(try #require(PhysicalUnit.inchesPerSecond.convert(1, to: .millimetersPerSecond)) - 25.4) < 1e-12)
        #expect(abs(try #require(PhysicalUnit.degreesFahrenheit.convert(212, to: .degreesCelsius)) - 100) < 1e-9)
        #expect(abs(try #require(PhysicalUnit.kelvin.convert(273.15, to: .degreesCelsius))) < 1e-9)
        #expect(abs(try #require(PhysicalUnit.revolutionsPerMinute.convert(1800, to: .hertz)) - 30) < 1e-12)
    }

    @Test func unitsOfDifferentDimensionsDoNotConvert() {
        #expect(PhysicalUnit.g.convert(1, to: .millimetersPerSecond) == nil)
        #expect(!PhysicalUnit.degreesCelsius.isConvertible(to: .bar))
    }

    @Test func everyUnitRoundTripsThroughItsSymbolAndItsBase() throws {
        for unit in PhysicalUnit.allCases {
            #expect(PhysicalUnit(symbol: unit.rawValue) == unit)
            for other in PhysicalUnit.allCases where unit.isConvertible(to: other) {
                let there = try #require(unit.convert(12.5, to: other))
                let back = try #require(other.convert(there, to: unit))
                #expect(abs(back - 12.5) < 1e-9, "\(unit) → \(other)")
            }
        }
    }

    @Test func commonSpellingsAreAccepted() {
        #expect(PhysicalUnit(symbol: "°C") == .degreesCelsius)
        #expect(PhysicalUnit(symbol: "m/s²") == .metersPerSecondSquared)
        #expect(PhysicalUnit(symbol: "furlongs") == nil)
    }
}
