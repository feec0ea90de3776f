/// Decoding the ONNX messages from the wire format. Unknown fields are skipped; a known field with
/// the wrong wire type is an error naming the message and field.

extension StringStringEntry {
    init(from r: inout ProtoReader) throws(ONNXError) {
        self.init("", "")
        while let (f, w) = try r.tag() {
            switch f {
            case 1: key = try r.stringField(w, field: "key")
            case 2: value = try r.stringField(w, field: "value")
            default: try r.skip(w)
            }
        }
    }
}

extension OperatorSetID {
    init(from r: inout ProtoReader) throws(ONNXError) {
        self.init(version: 0)
        while let (f, w) = try r.tag() {
            switch f {
            case 1: domain = try r.stringField(w, field: "domain")
            case 2: version = try r.int64(w, field: "version")
            default: try r.skip(w)
            }
        }
    }
}

extension TensorProto {
    public init(from r: inout ProtoReader) throws(ONNXError) {
        self.init()
        while let (f, w) = try r.tag() {
            switch f {
            case 1: try r.appendInt64s(w, to: &dims, field: "dims")
            case 2: dataType = try r.int32(w, field: "data_type")
            case 4: try r.appendFloats(w, to: &floatData, field: "float_data")
            case 5: try r.appendInt32s(w, to: &int32Data, field: "int32_data")
            case 6: stringData.append(try r.bytesField(w, field: "string_data"))
            case 7: try r.appendInt64s(w, to: &int64Data, field: "int64_data")
            case 8: name = try r.stringField(w, field: "name")
            case 9: rawData = try r.bytesField(w, field: "raw_data")
            case 10: try r.appendDoubles(w, to: &doubleData, field: "double_data")
            case 11: try r.appendUInt64s(w, to: &uint64Data, field: "uint64_data")
            case 12: docString = try r.stringField(w, field: "doc_string")
            case 13:
                var m = try r.message(w, field: "external_data")
                externalData.append(try StringStringEntry(from: &m))
            case 14: dataLocation = try r.int32(w, field: "data_location")
            default: try r.skip(w)
            }
        }
    }
}

extension TensorShapeDim {
    init(from r: inout ProtoReader) throws(ONNXError) {
        self.init()
        while let (f, w) = try r.tag() {
            switch f {
            case 1: value = try r.int64(w, field: "dim_value")
            case 2: param = try r.stringField(w, field: "dim_param")
            default: try r.skip(w)
            }
        }
    }
}

extension TensorTypeProto {
    /// From a TypeProto: nil when it is not a tensor type.
    static func fromType(_ r: inout ProtoReader) throws(ONNXError) -> TensorTypeProto? {
        var result: TensorTypeProto? = nil
        while let (f, w) = try r.tag() {
            switch f {
            case 1:
                var t = try r.message(w, field: "tensor_type")
                var tt = TensorTypeProto()
                while let (f2, w2) = try t.tag() {
                    switch f2 {
                    case 1: tt.elemType = try t.int32(w2, field: "elem_type")
                    case 2:
                        var s = try t.message(w2, field: "shape")
                        var dims: [TensorShapeDim] = []
                        while let (f3, w3) = try s.tag() {
                            if f3 == 1 {
                                var d = try s.message(w3, field: "dim")
                                dims.append(try TensorShapeDim(from: &d))
                            } else { try s.skip(w3) }
                        }
                        tt.shape = dims
                    default: try t.skip(w2)
                    }
                }
                result = tt
            default: try r.skip(w)
            }
        }
        return result
    }
}

extension ValueInfoProto {
    init(from r: inout ProtoReader) throws(ONNXError) {
        self.init()
        while let (f, w) = try r.tag() {
            switch f {
            case 1: name = try r.stringField(w, field: "name")
            case 2:
                var m = try r.message(w, field: "type")
                type = try TensorTypeProto.fromType(&m)
            case 3: docString = try r.stringField(w, field: "doc_string")
            case 4:
                var m = try r.message(w, field: "metadata_props")
                metadataProps.append(try StringStringEntry(from: &m))
            default: try r.skip(w)
            }
        }
    }
}

extension AttributeProto {
    init(from r: inout ProtoReader) throws(ONNXError) {
        self.init()
        while let (f, w) = try r.tag() {
            switch f {
            case 1: name = try r.stringField(w, field: "name")
            case 2: self.f = try r.float(w, field: "f")
            case 3: i = try r.int64(w, field: "i")
            case 4: s = try r.bytesField(w, field: "s")
            case 5:
                var m = try r.message(w, field: "t")
                t = try TensorProto(from: &m)
            case 6:
                var m = try r.message(w, field: "g")
                g = try GraphProto(from: &m)
            case 7: try r.appendFloats(w, to: &floats, field: "floats")
            case 8: try r.appendInt64s(w, to: &ints, field: "ints")
            case 9: strings.append(try r.bytesField(w, field: "strings"))
            case 10:
                var m = try r.message(w, field: "tensors")
                tensors.append(try TensorProto(from: &m))
            case 11:
                var m = try r.message(w, field: "graphs")
                graphs.append(try GraphProto(from: &m))
            case 13: docString = try r.stringField(w, field: "doc_string")
            case 20: type = try r.int32(w, field: "type")
            case 21: refAttrName = try r.stringField(w, field: "ref_attr_name")
            default: try r.skip(w)
            }
        }
    }
}

extension NodeProto {
    init(from r: inout ProtoReader) throws(ONNXError) {
        self.init()
        while let (f, w) = try r.tag() {
            switch f {
            case 1: input.append(try r.stringField(w, field: "input"))
            case 2: output.append(try r.stringField(w, field: "output"))
            case 3: name = try r.stringField(w, field: "name")
            case 4: opType = try r.stringField(w, field: "op_type")
            case 5:
                var m = try r.message(w, field: "attribute")
                attribute.append(try AttributeProto(from: &m))
            case 6: docString = try r.stringField(w, field: "doc_string")
            case 7: domain = try r.stringField(w, field: "domain")
            case 9:
                var m = try r.message(w, field: "metadata_props")
                metadataProps.append(try StringStringEntry(from: &m))
            default: try r.skip(w)
            }
        }
    }
}

extension GraphProto {
    init(from r: inout ProtoReader) throws(ONNXError) {
        self.init()
        while let (f, w) = try r.tag() {
            switch f {
            case 1:
                var m = try r.message(w, field: "node[\(node.count)]")
                node.append(try NodeProto(from: &m))
            case 2: name = try r.stringField(w, field: "name")
            case 5:
                var m = try r.message(w, field: "initializer[\(initializer.count)]")
                initializer.append(try TensorProto(from: &m))
            case 10: docString = try r.stringField(w, field: "doc_string")
            case 11:
                var m = try r.message(w, field: "input")
                input.append(try ValueInfoProto(from: &m))
            case 12:
                var m = try r.message(w, field: "output")
                output.append(try ValueInfoProto(from: &m))
            case 13:
                var m = try r.message(w, field: "value_info")
                valueInfo.append(try ValueInfoProto(from: &m))
            case 16:
                var m = try r.message(w, field: "metadata_props")
                metadataProps.append(try StringStringEntry(from: &m))
            default: try r.skip(w)
            }
        }
    }
}

extension ModelProto {
    /// Decodes a serialized ModelProto; `file` names it in errors.
    public init(bytes: [UInt8], file: String) throws(ONNXError) {
        var r = ProtoReader(bytes, file: file, context: "ModelProto")
        try self.init(from: &r)
    }

    init(from r: inout ProtoReader) throws(ONNXError) {
        self.init()
        var sawGraph = false
        while let (f, w) = try r.tag() {
            switch f {
            case 1: irVersion = try r.int64(w, field: "ir_version")
            case 2: producerName = try r.stringField(w, field: "producer_name")
            case 3: producerVersion = try r.stringField(w, field: "producer_version")
            case 4: domain = try r.stringField(w, field: "domain")
            case 5: modelVersion = try r.int64(w, field: "model_version")
            case 6: docString = try r.stringField(w, field: "doc_string")
            case 7:
                var m = try r.message(w, field: "graph")
                graph = try GraphProto(from: &m)
                sawGraph = true
            case 8:
                var m = try r.message(w, field: "opset_import")
                opsetImport.append(try OperatorSetID(from: &m))
            case 14:
                var m = try r.message(w, field: "metadata_props")
                metadataProps.append(try StringStringEntry(from: &m))
            default: try r.skip(w)
            }
        }
        guard sawGraph else { throw r.error("no graph (field 7): not an ONNX model") }
    }
}

extension TensorProto {
    /// Decodes a serialized TensorProto (the node tests' `input_0.pb`).
    public init(bytes: [UInt8], file: String) throws(ONNXError) {
        var r = ProtoReader(bytes, file: file, context: "TensorProto")
        try self.init(from: &r)
    }
}
