/// The ONNX messages ConvLens reads and writes, with onnx.proto3's field numbers
/// (https://github.com/onnx/onnx/blob/main/onnx/onnx.proto3). Fields ConvLens does not use are
/// skipped when read (training_info, functions, sparse initializers, quantization annotations).

public struct StringStringEntry: Sendable, Equatable {
    public var key: String
    public var value: String
    public init(_ key: String, _ value: String) { self.key = key; self.value = value }
}

public struct OperatorSetID: Sendable, Equatable {
    public var domain = ""
    public var version: Int64 = 0
    public init(domain: String = "", version: Int64) { self.domain = domain; self.version = version }
}

/// ONNX's TensorProto.DataType values ConvLens meets.
public enum ONNXDataType: Int32, Sendable {
    case undefined = 0, float = 1, uint8 = 2, int8 = 3, uint16 = 4, int16 = 5, int32 = 6, int64 = 7,
         string = 8, bool = 9, float16 = 10, double = 11, uint32 = 12, uint64 = 13, bfloat16 = 16

    public static func name(_ raw: Int32) -> String {
        ONNXDataType(rawValue: raw).map { "\($0)" } ?? "data type \(raw)"
    }
}

public struct TensorProto: Sendable, Equatable {
    public var dims: [Int64] = []
    public var dataType: Int32 = 0
    public var floatData: [Float] = []
    public var int32Data: [Int32] = []
    public var stringData: [[UInt8]] = []
    public var int64Data: [Int64] = []
    public var name = ""
    public var docString = ""
    public var rawData: [UInt8]? = nil
    public var externalData: [StringStringEntry] = []
    /// 0 DEFAULT (inline), 1 EXTERNAL (`external_data` names location, offset, length).
    public var dataLocation: Int32 = 0
    public var doubleData: [Double] = []
    public var uint64Data: [UInt64] = []
    public init() {}
}

public struct TensorShapeDim: Sendable, Equatable {
    public var value: Int64?
    public var param: String?
    public init(value: Int64? = nil, param: String? = nil) { self.value = value; self.param = param }
}

/// TypeProto, the tensor case only (sequences, maps and optionals are not CNN inputs).
public struct TensorTypeProto: Sendable, Equatable {
    public var elemType: Int32 = 0
    /// nil: no shape given (unknown rank).
    public var shape: [TensorShapeDim]? = nil
    public init(elemType: Int32 = 0, shape: [TensorShapeDim]? = nil) { self.elemType = elemType; self.shape = shape }
}

public struct ValueInfoProto: Sendable, Equatable {
    public var name = ""
    public var type: TensorTypeProto? = nil
    public var docString = ""
    public var metadataProps: [StringStringEntry] = []
    public init(name: String = "", type: TensorTypeProto? = nil) { self.name = name; self.type = type }
}

public struct AttributeProto: Sendable, Equatable {
    public enum Kind: Int32, Sendable {
        case undefined = 0, float = 1, int = 2, string = 3, tensor = 4, graph = 5, floats = 6, ints = 7, strings = 8,
             tensors = 9, graphs = 10, sparseTensor = 11, sparseTensors = 12, typeProto = 13, typeProtos = 14
    }
    public var name = ""
    public var type: Int32 = 0
    public var f: Float = 0
    public var i: Int64 = 0
    public var s: [UInt8] = []
    public var t: TensorProto? = nil
    public var g: GraphProto? = nil
    public var floats: [Float] = []
    public var ints: [Int64] = []
    public var strings: [[UInt8]] = []
    public var tensors: [TensorProto] = []
    public var graphs: [GraphProto] = []
    public var docString = ""
    public var refAttrName = ""
    public init(name: String = "") { self.name = name }
}

public struct NodeProto: Sendable, Equatable {
    public var input: [String] = []
    public var output: [String] = []
    public var name = ""
    public var opType = ""
    public var domain = ""
    public var attribute: [AttributeProto] = []
    public var docString = ""
    public var metadataProps: [StringStringEntry] = []
    public init(opType: String = "", name: String = "", input: [String] = [], output: [String] = []) {
        self.opType = opType; self.name = name; self.input = input; self.output = output
    }

    public func attr(_ name: String) -> AttributeProto? { attribute.first { $0.name == name } }
    public func meta(_ key: String) -> String? { metadataProps.first { $0.key == key }?.value }
}

public struct GraphProto: Sendable, Equatable {
    public var node: [NodeProto] = []
    public var name = ""
    public var initializer: [TensorProto] = []
    public var docString = ""
    public var input: [ValueInfoProto] = []
    public var output: [ValueInfoProto] = []
    public var valueInfo: [ValueInfoProto] = []
    public var metadataProps: [StringStringEntry] = []
    public init() {}
}

public struct ModelProto: Sendable, Equatable {
    public var irVersion: Int64 = 0
    public var opsetImport: [OperatorSetID] = []
    public var producerName = ""
    public var producerVersion = ""
    public var domain = ""
    public var modelVersion: Int64 = 0
    public var docString = ""
    public var graph = GraphProto()
    public var metadataProps: [StringStringEntry] = []
    public init() {}

    /// The default domain's opset version (0 when the file names none).
    public var opset: Int64 { opsetImport.first { $0.domain == "" || $0.domain == "ai.onnx" }?.version ?? 0 }
}
