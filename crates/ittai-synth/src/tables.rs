//! The ten output tables of a chunk of persons, collected column by column.

use ittai_dataset::{
    CareClaim, Certification, Checkup, ClaimDiagnosis, ClaimDrug, DentalCheckup, Intervention,
    MedicalClaim, Person, Questionnaire, RowBatch,
};

use crate::register::RegisterPerson;

/// Row batches of the ten canonical tables, in contract order, and the persons of the
/// synthetic register (when it is written).
#[derive(Debug)]
pub struct Tables {
    /// `persons`.
    pub persons: RowBatch,
    /// `checkups`.
    pub checkups: RowBatch,
    /// `dental_checkups`.
    pub dental_checkups: RowBatch,
    /// `questionnaires`.
    pub questionnaires: RowBatch,
    /// `medical_claims`.
    pub medical_claims: RowBatch,
    /// `claim_diagnoses`.
    pub claim_diagnoses: RowBatch,
    /// `claim_drugs`.
    pub claim_drugs: RowBatch,
    /// `care_claims`.
    pub care_claims: RowBatch,
    /// `certifications`.
    pub certifications: RowBatch,
    /// `interventions` (support records).
    pub interventions: RowBatch,
    /// Persons of the synthetic register (`register/台帳.csv`), in person order; empty
    /// when the register is not written. Not a table of the dataset.
    pub register: Vec<RegisterPerson>,
}

impl Default for Tables {
    fn default() -> Self {
        Self {
            persons: RowBatch::for_row::<Person>(),
            checkups: RowBatch::for_row::<Checkup>(),
            dental_checkups: RowBatch::for_row::<DentalCheckup>(),
            questionnaires: RowBatch::for_row::<Questionnaire>(),
            medical_claims: RowBatch::for_row::<MedicalClaim>(),
            claim_diagnoses: RowBatch::for_row::<ClaimDiagnosis>(),
            claim_drugs: RowBatch::for_row::<ClaimDrug>(),
            care_claims: RowBatch::for_row::<CareClaim>(),
            certifications: RowBatch::for_row::<Certification>(),
            interventions: RowBatch::for_row::<Intervention>(),
            register: Vec::new(),
        }
    }
}

impl Tables {
    /// The batches in contract order (the order of `ittai_dataset::TABLES`, checked by the
    /// test below).
    pub fn in_order(&mut self) -> [&mut RowBatch; 10] {
        [
            &mut self.persons,
            &mut self.checkups,
            &mut self.dental_checkups,
            &mut self.questionnaires,
            &mut self.medical_claims,
            &mut self.claim_diagnoses,
            &mut self.claim_drugs,
            &mut self.care_claims,
            &mut self.certifications,
            &mut self.interventions,
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ittai_dataset::TABLES;

    #[test]
    fn batches_follow_the_contract_order() {
        let mut t = Tables::default();
        let names: Vec<&str> = t.in_order().iter().map(|b| b.spec().name).collect();
        let contract: Vec<&str> = TABLES.iter().map(|s| s.name).collect();
        assert_eq!(names, contract);
    }
}
