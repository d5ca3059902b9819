//! The CPU device's (`Flex`) tensors as plain `f32` slices and back, for the fused kernels of
//! burn operations Kindling adds ([`super::recurrent_ops`], [`super::conv_ops`]).

use burn::backend::flex::FlexTensor;
use burn::backend::TensorData;
use burn::tensor::DType;

/// The tensor with its values contiguous in row-major order (the tensor itself when they are).
pub(crate) fn contiguous(t: FlexTensor) -> FlexTensor {
    if t.is_contiguous() {
        t
    } else {
        t.to_contiguous()
    }
}

/// The values of a contiguous `f32` tensor.
pub(crate) fn values_of(t: &FlexTensor) -> &[f32] {
    t.as_slice::<f32>()
        .expect("a contiguous f32 tensor (checked by the caller)")
}

/// A tensor of `shape` holding `values` (row-major).
pub(crate) fn flex_tensor(values: Vec<f32>, shape: &[usize]) -> FlexTensor {
    FlexTensor::from_data(TensorData::new(values, shape.to_vec()))
}

/// Whether the fused kernels can run: f32 tensors (what they are written for).
pub(crate) fn all_f32(tensors: &[&FlexTensor]) -> bool {
    tensors.iter().all(|t| t.dtype() == DType::F32)
}
