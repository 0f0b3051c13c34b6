/**
 * Block-wise weight-only quantization in the layout of onnxruntime's com.microsoft `MatMulNBits`
 * (onnxruntime docs/ContribOperators.md): a linear layer's weight W [N, K] (Hugging Face's [out, in]) is cut
 * along K into blocks of `blockSize`; each block gets one float scale, and its codes are packed low bits first
 * into `B` [N, ceil(K / blockSize), blockSize * bits / 8] (uint8). Without a `zero_points` input the op takes
 * the zero point 2^(bits-1), so W ≈ (code - 2^(bits-1)) * scale: symmetric quantization.
 *
 * The scale maps the block's value of largest magnitude onto -2^(bits-1), so the whole code range is used
 * (the choice of onnxruntime's symmetric blockwise quantizer); a K that is not a multiple of the block is
 * padded with zero codes.
 */
export function blockQuantize(params: {
	/** Row-major [rows, columns] = [N, K]. */
	values: Float32Array;
	rows: number;
	columns: number;
	bits: 4 | 8;
	blockSize: number;
}): { codes: Uint8Array; scales: Float32Array } {
	const { values, rows, columns, bits, blockSize } = params;
	const blocks = Math.ceil(columns / blockSize);
	const blob = (blockSize * bits) / 8;
	const zeroPoint = 2 ** (bits - 1);
	const maxCode = 2 ** bits - 1;
	const codes = new Uint8Array(rows * blocks * blob);
	const scales = new Float32Array(rows * blocks);
	const block = new Uint8Array(blockSize);
	for (let r = 0; r < rows; r++) {
		for (let k = 0; k < blocks; k++) {
			const start = r * columns + k * blockSize;
			const length = Math.min(blockSize, columns - k * blockSize);
			let extreme = 0;
			for (let i = 0; i < length; i++) {
				const v = values[start + i] as number;
				if (Math.abs(v) > Math.abs(extreme)) extreme = v;
			}
			const scale = extreme / -zeroPoint;
			scales[r * blocks + k] = scale;
			const inverse = scale === 0 ? 0 : 1 / scale;
			block.fill(zeroPoint);
			for (let i = 0; i < length; i++) {
				const q = Math.round((values[start + i] as number) * inverse) + zeroPoint;
				block[i] = q < 0 ? 0 : q > maxCode ? maxCode : q;
			}
			const at = (r * blocks + k) * blob;
			if (bits === 8) codes.set(block, at);
			else for (let j = 0; j < blob; j++) codes[at + j] = (block[2 * j] as number) | ((block[2 * j + 1] as number) << 4);
		}
	}
	return { codes, scales };
}

/** The dims of `MatMulNBits`' B and scales for a [rows, columns] = [N, K] weight. */
export function blockQuantizedDims(params: { rows: number; columns: number; bits: 4 | 8; blockSize: number }): {
	codes: number[];
	scales: number[];
} {
	const blocks = Math.ceil(params.columns / params.blockSize);
	return { codes: [params.rows, blocks, (params.blockSize * params.bits) / 8], scales: [params.rows * blocks] };
}

/** The floats a quantized weight stands for ([rows, columns]), to measure the quantization error. */
export function blockDequantize(params: {
	codes: Uint8Array;
	scales: Float32Array;
	rows: number;
	columns: number;
	bits: 4 | 8;
	blockSize: number;
}): Float32Array {
	const { codes, scales, rows, columns, bits, blockSize } = params;
	const blocks = Math.ceil(columns / blockSize);
	const blob = (blockSize * bits) / 8;
	const zeroPoint = 2 ** (bits - 1);
	const out = new Float32Array(rows * columns);
	for (let r = 0; r < rows; r++)
		for (let c = 0; c < columns; c++) {
			const k = Math.floor(c / blockSize);
			const i = c % blockSize;
			const at = (r * blocks + k) * blob;
			const code = bits === 8 ? (codes[at + i] as number) : ((codes[at + (i >> 1)] as number) >> ((i & 1) * 4)) & 15;
			out[r * columns + c] = (code - zeroPoint) * (scales[r * blocks + k] as number);
		}
	return out;
}
