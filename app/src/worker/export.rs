//! Exports of kept runs: the weights as safetensors, or a framework's script with the weights
//! and the data file, zipped (core's [`kindling_core::export`] makes them, as `kindling export`
//! does natively). Made here, not in the page: loading the model and zipping megabytes would
//! hold the page's thread.

use kindling_core::data::loader::{position_files, split_positions};
use kindling_core::export::{
    export_run, safetensors_of, ExportData, ExportFile, SAFETENSORS_EXTENSION,
};
use kindling_core::model::SavedModel;
use kindling_core::record::RunRecord;

use super::data::fetch_files;
use super::error::WorkerError;
use super::fetch::missing_file;
use super::host::post;
use super::Actor;
use crate::protocol::{ExportFormat, FromWorker};

impl Actor {
    /// Answers `Export`: the file to download, or why the run cannot be exported.
    pub(super) async fn answer_export(
        &mut self,
        record: RunRecord,
        format: ExportFormat,
        weights: Vec<u8>,
    ) {
        post(&match self.export(&record, format, weights).await {
            Ok(file) => FromWorker::Exported {
                run_id: record.id,
                name: file.name,
                bytes: file.bytes,
            },
            Err(e) => FromWorker::ExportFailed {
                run_id: record.id,
                message: format!(
                    "\"{}\" could not be exported for {}: {e}",
                    record.name,
                    format.label()
                ),
            },
        });
    }

    /// Loads the run's weights (on the CPU) and makes its export. A framework's archive needs
    /// the positions of the run's examples in the data folder's files (only the label or token
    /// files are read, from the dataset cache), or for toy sets and uploads the examples.
    async fn export(
        &mut self,
        record: &RunRecord,
        format: ExportFormat,
        weights: Vec<u8>,
    ) -> Result<ExportFile, WorkerError> {
        let config = &record.config;
        config.validate().map_err(WorkerError::SavedConfig)?;
        let saved = SavedModel::load(&config.model, weights, &self.cpu)?;
        let framework = match format {
            ExportFormat::Safetensors => {
                return Ok(ExportFile {
                    name: format!("{}.{SAFETENSORS_EXTENSION}", record.file_stem()),
                    bytes: safetensors_of(saved.model())?,
                })
            }
            ExportFormat::Framework(framework) => framework,
        };
        let dataset = &config.dataset;
        let mut files = fetch_files(None, dataset, &position_files(dataset)).await?;
        let positions = split_positions(dataset, &mut |name, file| {
            files.remove(file).ok_or_else(|| missing_file(name, file))
        })?;
        let export = match &positions {
            Some(positions) => export_run(record, saved.model(), ExportData::Positions(positions))?,
            None => {
                let data = self.load_data(None, dataset).await?;
                export_run(
                    record,
                    saved.model(),
                    ExportData::Carried {
                        train: &data.train,
                        test: &data.eval,
                    },
                )?
            }
        };
        Ok(export.archive(framework)?)
    }
}
