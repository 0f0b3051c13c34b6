import { createRequire } from "node:module";
import type { onnx as OnnxNamespace } from "onnx-proto";

// onnx-proto is the protobufjs static code generated from the official onnx.proto (its package.json records
// the ONNX tag). It is CommonJS whose namespace Node's ESM loader cannot see, so it is required.
const require = createRequire(import.meta.url);
/** The protobuf message classes of onnx.proto (ModelProto, GraphProto, NodeProto, TensorProto, ...). */
export const onnx = (require("onnx-proto") as { onnx: typeof OnnxNamespace }).onnx;

/** A decoded ONNX model: plain objects, int64 fields as numbers, repeated fields as arrays. */
export type OnnxModel = OnnxNamespace.IModelProto;
export type OnnxGraph = OnnxNamespace.IGraphProto;
export type OnnxNode = OnnxNamespace.INodeProto;
export type OnnxTensor = OnnxNamespace.ITensorProto;
export type OnnxValueInfo = OnnxNamespace.IValueInfoProto;
export type OnnxAttribute = OnnxNamespace.IAttributeProto;
export type OnnxTypeProto = OnnxNamespace.ITypeProto;

/** TensorProto.DataType values (onnx.proto). */
export const DataType = {
	FLOAT: 1,
	UINT8: 2,
	INT8: 3,
	UINT16: 4,
	INT16: 5,
	INT32: 6,
	INT64: 7,
	STRING: 8,
	BOOL: 9,
	FLOAT16: 10,
	DOUBLE: 11,
	UINT32: 12,
	UINT64: 13,
	BFLOAT16: 16,
} as const;
export type DataTypeName = keyof typeof DataType;

/** AttributeProto.AttributeType values (onnx.proto). */
export const AttributeType = {
	FLOAT: 1,
	INT: 2,
	STRING: 3,
	TENSOR: 4,
	GRAPH: 5,
	FLOATS: 6,
	INTS: 7,
	STRINGS: 8,
} as const;

/** Bytes per element of the fixed-size data types. */
export function dataTypeSize(dataType: number): number {
	switch (dataType) {
		case DataType.BOOL:
		case DataType.UINT8:
		case DataType.INT8:
			return 1;
		case DataType.UINT16:
		case DataType.INT16:
		case DataType.FLOAT16:
		case DataType.BFLOAT16:
			return 2;
		case DataType.FLOAT:
		case DataType.INT32:
		case DataType.UINT32:
			return 4;
		case DataType.INT64:
		case DataType.UINT64:
		case DataType.DOUBLE:
			return 8;
		default:
			throw new RangeError(`ONNX data type ${dataType} has no fixed element size`);
	}
}

/** The name of a TensorProto.DataType value, for messages. */
export function dataTypeName(dataType: number | null | undefined): string {
	for (const [name, value] of Object.entries(DataType)) if (value === dataType) return name;
	return `type ${String(dataType)}`;
}

/** An int64 protobuf field as a number (decoded models already hold numbers; Long objects are tolerated). */
export function toInt(value: number | { toNumber(): number } | null | undefined): number {
	if (value === null || value === undefined) return 0;
	return typeof value === "number" ? value : value.toNumber();
}
