//! The ten output tables of a chunk of persons, collected column by column.

use ittai_dataset::{
    CareClaim, Certification, Checkup, ClaimDiagnosis, ClaimDrug, DentalCheckup, Intervention,
    MedicalClaim, Person, Questionnaire, RowBatch,
};

/// Row batches of the ten canonical tables, in contract order.
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
