"""CII-SR-*: the CII elements an EN 16931 invoice should not carry, per context (CEN 1.3.15).

Each table is (rule number, path that should be absent) for one context of the CII syntax
pattern, in official order; the rules of those contexts that test more than absence are
written out in ``cii_syntax``. Every rule here is a warning. Paths follow the grammar of
``_absence`` and keep the official wording, including repeats (193 = 184, 334 = 333).
CII-SR-282 is defined twice in the official binding; the first definition (the buyer's tax
representative) is the one the Schematron compiler substitutes.
"""

from __future__ import annotations

__all__ = [
    "BILLING_PERIOD",
    "DOCUMENT_CONTEXT",
    "EXCHANGED_DOCUMENT",
    "HEADER_AGREEMENT",
    "HEADER_DELIVERY",
    "HEADER_SETTLEMENT",
    "HEADER_SUMMATION",
    "INVOICE",
    "LINE",
    "LINE_AGREEMENT",
    "LINE_DELIVERY",
    "LINE_DOCUMENT",
    "LINE_SETTLEMENT",
    "PARAMETER",
    "POSTAL_ADDRESS",
    "PRODUCT",
]

Rows = tuple[tuple[int, str], ...]


def _seq(first: int, base: str, *leaves: str) -> list[tuple[int, str]]:
    return [(first + i, base + leaf) for i, leaf in enumerate(leaves)]


def _r(*names: str) -> tuple[str, ...]:
    return tuple(f"ram:{n}" for n in names)


_CONTACT = _r(
    "ID",
    "TypeCode",
    "JobTitle",
    "Responsibility",
    "PersonID",
    "TelephoneUniversalCommunication/ram:URIID",
    "TelephoneUniversalCommunication/ram:ChannelCode",
    "DirectTelephoneUniversalCommunication",
    "MobileTelephoneUniversalCommunication",
    "FaxUniversalCommunication",
    "EmailURIUniversalCommunication/ram:ChannelCode",
    "EmailURIUniversalCommunication/ram:CompleteNumber",
    "TelexUniversalCommunication",
    "VOIPUniversalCommunication",
    "InstantMessagingUniversalCommunication",
    "SpecifiedNote",
    "SpecifiedContactPerson",
)
_ACCOUNTING_ACCOUNT = _r("SetTriggerCode", "TypeCode", "AmountTypeCode", "Name", "CostReferenceDimensionPattern")

# rsm:ExchangedDocumentContext
DOCUMENT_CONTEXT: Rows = (
    (1, "ram:SpecifiedTransactionID"),
    (2, "ram:TestIndicator"),
    (6, "ram:BIMSpecifiedDocumentContextParameter"),
    (7, "ram:ScenarioSpecifiedDocumentContextParameter"),
    (8, "ram:ApplicationSpecifiedDocumentContextParameter"),
    (11, "ram:SubsetSpecifiedDocumentContextParameter"),
    (12, "ram:MessageStandardSpecifiedDocumentContextParameter"),
)

# rsm:ExchangedDocument
EXCHANGED_DOCUMENT: Rows = (
    (13, "ram:Name"),
    (15, "ram:IssueDateTime/udt:DateTime"),
    *_seq(
        16,
        "ram:",
        "CopyIndicator",
        "Purpose",
        "ControlRequirementIndicator",
        "LanguageID",
        "PurposeCode",
        "RevisionDateTime",
        "VersionID",
        "GlobalID",
        "RevisionID",
        "PreviousRevisionID",
        "CategoryCode",
        "IncludedNote/ram:Subject",
        "IncludedNote/ram:ContentCode",
    ),
    (32, "ram:IncludedNote/ram:ID"),
    (33, "ram:EffectiveSpecifiedPeriod"),
    (34, "ram:IssuerTradeParty"),
)

# ram:IncludedSupplyChainTradeLineItem
LINE: Rows = (
    *_seq(35, "ram:", "DescriptionCode", "ParentLineID", "LineStatusCode", "LineStatusReasonCode"),
    (221, "ram:IncludedSubordinateTradeLineItem"),
)

# ram:AssociatedDocumentLineDocument of a line
LINE_DOCUMENT: Rows = tuple(_seq(41, "ram:IncludedNote/", *_r("SubjectCode", "ID", "Subject", "ContentCode")))

# ram:SpecifiedTradeProduct of a line
PRODUCT: Rows = (
    (45, "ram:ID"),
    *_seq(
        48,
        "",
        *_r(
            "ManufacturerAssignedID",
            "TradeName",
            "TypeCode",
            "NetWeightMeasure",
            "GrossWeightMeasure",
            "ProductGroupID",
            "EndItemTypeCode",
            "EndItemName",
            "AreaDensityMeasure",
            "UseDescription",
            "BrandName",
            "SubBrandName",
            "DrainedNetWeightMeasure",
            "VariableMeasureIndicator",
            "ColourCode",
            "ColourDescription",
            "Designation",
            "FormattedCancellationAnnouncedLaunchDateTime",
            "FormattedLatestProductDataChangeDateTime",
            "ApplicableProductCharacteristic/ram:ID",
            "ApplicableProductCharacteristic/ram:TypeCode",
        ),
    ),
    (70, "ram:ApplicableProductCharacteristic/ram:ValueMeasure"),
    (71, "ram:ApplicableProductCharacteristic/ram:MeasurementMethodCode"),
    *_seq(
        73,
        "ram:ApplicableProductCharacteristic/",
        *_r(
            "ValueCode",
            "ValueDateTime",
            "ValueIndicator",
            "ContentTypeCode",
            "ValueSpecifiedBinaryFile",
            "ApplicableProductCharacteristicCondition",
            "ApplicableReferencedStandard",
        ),
    ),
    (80, "ram:ApplicableMaterialGoodsCharacteristic"),
    *_seq(
        81,
        "ram:DesignatedProductClassification/",
        *_r(
            "SystemID",
            "SystemName",
            "ClassName",
            "SubClassCode",
            "ClassProductCharacteristic",
            "ApplicableReferencedStandard",
        ),
    ),
    *_seq(
        87,
        "",
        *_r(
            "IndividualTradeProductInstance",
            "CertificationEvidenceReferenceReferencedDocument",
            "InspectionReferenceReferencedDocument",
        ),
    ),
    (91, "ram:OriginTradeCountry/ram:Name"),
    (92, "ram:OriginTradeCountry/ram:SubordinateTradeCountrySubDivision"),
    *_seq(
        93,
        "",
        *_r(
            "LinearSpatialDimension",
            "MinimumLinearSpatialDimension",
            "MaximumLinearSpatialDimension",
            "ManufacturerTradeParty",
            "PresentationSpecifiedBinaryFile",
            "MSDSReferenceReferencedDocument",
            "AdditionalReferenceReferencedDocument",
            "LegalRightsOwnerTradeParty",
            "BrandOwnerTradeParty",
            "IncludedReferencedProduct",
            "InformationNote",
        ),
    ),
)

_GROSS = "ram:GrossPriceProductTradePrice/"
_GROSS_ALLOWANCE = _GROSS + "ram:AppliedTradeAllowanceCharge/"
_NET = "ram:NetPriceProductTradePrice/"

# ram:SpecifiedLineTradeAgreement of a line
LINE_AGREEMENT: Rows = (
    *_seq(
        104,
        "",
        *_r(
            "BuyerReference",
            "BuyerRequisitionerTradeParty",
            "ApplicableTradeDeliveryTerms",
            "SellerOrderReferencedDocument",
            "BuyerOrderReferencedDocument/ram:IssuerAssignedID",
            "QuotationReferencedDocument",
            "ContractReferencedDocument",
            "DemandForecastReferencedDocument",
            "PromotionalDealReferencedDocument",
            "AdditionalReferencedDocument",
        ),
    ),
    *_seq(
        114,
        _GROSS,
        *_r("TypeCode", "MinimumQuantity", "MaximumQuantity", "ChangeReason", "OrderUnitConversionFactorNumeric"),
    ),
    *_seq(
        120,
        _GROSS_ALLOWANCE,
        *_r(
            "ID",
            "SequenceNumeric",
            "CalculationPercent",
            "BasisAmount",
            "BasisQuantity",
            "PrepaidIndicator",
            "UnitBasisAmount",
            "ReasonCode",
            "Reason",
            "TypeCode",
            "CategoryTradeTax",
            "ActualTradeCurrencyExchange",
        ),
    ),
    (445, _GROSS + "ram:IncludedTradeTax"),
    *_seq(
        132,
        _GROSS,
        *_r(
            "ValiditySpecifiedPeriod",
            "DeliveryTradeLocation",
            "TradeComparisonReferencePrice",
            "AssociatedReferencedDocument",
        ),
    ),
    (136, _NET + "ram:TypeCode"),
    *_seq(
        138,
        _NET,
        *_r(
            "MinimumQuantity",
            "MaximumQuantity",
            "ChangeReason",
            "OrderUnitConversionFactorNumeric",
            "AppliedTradeAllowanceCharge",
        ),
    ),
    (446, _NET + "ram:IncludedTradeTax"),
    *_seq(
        143,
        _NET,
        *_r(
            "ValiditySpecifiedPeriod",
            "DeliveryTradeLocation",
            "TradeComparisonReferencePrice",
            "AssociatedReferencedDocument",
        ),
    ),
    *_seq(
        147,
        "",
        *_r(
            "RequisitionerReferencedDocument",
            "ItemSellerTradeParty",
            "ItemBuyerTradeParty",
            "IncludedSpecifiedMarketplace",
        ),
    ),
    (447, "ram:UltimateCustomerOrderReferencedDocument"),
)

# ram:SpecifiedLineTradeDelivery of a line
LINE_DELIVERY: Rows = tuple(
    _seq(
        151,
        "",
        *_r(
            "RequestedQuantity",
            "ReceivedQuantity",
            "ChargeFreeQuantity",
            "PackageQuantity",
            "ProductUnitQuantity",
            "PerPackageUnitQuantity",
            "NetWeightMeasure",
            "GrossWeightMeasure",
            "TheoreticalWeightMeasure",
            "DespatchedQuantity",
            "SpecifiedDeliveryAdjustment",
            "IncludedSupplyChainPackaging",
            "RelatedSupplyChainConsignment",
            "ShipToTradeParty",
            "UltimateShipToTradeParty",
            "ShipFromTradeParty",
            "ActualDespatchSupplyChainEvent",
            "ActualPickUpSupplyChainEvent",
            "RequestedDeliverySupplyChainEvent",
            "ActualDeliverySupplyChainEvent",
            "ActualReceiptSupplyChainEvent",
            "AdditionalReferencedDocument",
            "DespatchAdviceReferencedDocument",
            "ReceivingAdviceReferencedDocument",
            "DeliveryNoteReferencedDocument",
            "ConsumptionReportReferencedDocument",
            "PackingListReferencedDocument",
        ),
    )
)

_LINE_ALLOWANCE = "ram:SpecifiedTradeAllowanceCharge/"
_LINE_SUMMATION = "ram:SpecifiedTradeSettlementLineMonetarySummation/"

# ram:SpecifiedLineTradeSettlement of a line
LINE_SETTLEMENT: Rows = (
    *_seq(
        178,
        "",
        *_r(
            "PaymentReference",
            "InvoiceIssuerReference",
            "TotalAdjustmentAmount",
            "DiscountIndicator",
            "ApplicableTradeTax/ram:CalculatedAmount",
        ),
    ),
    (183, _LINE_ALLOWANCE + "ram:ChargeIndicator/udt:IndicatorString"),
    *_seq(
        184,
        _LINE_ALLOWANCE,
        *_r(
            "ID",
            "SequenceNumeric",
            "CalculationPercent/@format",
            "BasisQuantity",
            "PrepaidIndicator",
            "UnitBasisAmount",
            "TypeCode",
            "CategoryTradeTax",
            "ActualTradeCurrencyExchange",
            "ID",
        ),
    ),
    *_seq(194, "", *_r("SubtotalCalculatedTradeTax", "SpecifiedLogisticsServiceCharge", "SpecifiedTradePaymentTerms")),
    *_seq(
        197,
        _LINE_SUMMATION,
        *_r(
            "ChargeTotalAmount",
            "AllowanceTotalAmount",
            "TaxBasisTotalAmount",
            "TaxTotalAmount",
            "GrandTotalAmount",
            "InformationAmount",
            "TotalAllowanceChargeAmount",
            "TotalRetailValueInformationAmount",
            "GrossLineTotalAmount",
            "NetLineTotalAmount",
            "NetIncludingTaxesLineTotalAmount",
            "ProductWeightLossInformationAmount",
        ),
    ),
    (209, "ram:SpecifiedFinancialAdjustment"),
    (210, "ram:InvoiceReferencedDocument"),
    (212, "ram:PayableSpecifiedTradeAccountingAccount"),
    *_seq(213, "ram:ReceivableSpecifiedTradeAccountingAccount/", *_ACCOUNTING_ACCOUNT),
    *_seq(
        218,
        "",
        *_r(
            "PurchaseSpecifiedTradeAccountingAccount",
            "SalesSpecifiedTradeAccountingAccount",
            "SpecifiedTradeSettlementFinancialCard",
        ),
    ),
)

_SELLER = "ram:SellerTradeParty/"
_BUYER = "ram:BuyerTradeParty/"
_TAX_REP = "ram:SellerTaxRepresentativeTradeParty/"

# ram:ApplicableHeaderTradeAgreement
HEADER_AGREEMENT: Rows = (
    (442, "ram:Reference"),
    (222, _SELLER + "ram:RoleCode"),
    *_seq(
        223,
        _SELLER + "ram:SpecifiedLegalOrganization/",
        *_r("LegalClassificationCode", "Name", "PostalTradeAddress", "AuthorizedLegalRegistration"),
    ),
    *_seq(227, _SELLER + "ram:DefinedTradeContact/", *_CONTACT),
    *_seq(
        244,
        _SELLER,
        *_r(
            "URIUniversalCommunication/ram:ChannelCode",
            "URIUniversalCommunication/ram:CompleteNumber",
            "SpecifiedTaxRegistration/ram:AssociatedRegisteredTax",
            "EndPointURIUniversalCommunication",
            "LogoAssociatedSpecifiedBinaryFile",
        ),
    ),
    (249, _BUYER + "ram:RoleCode"),
    (250, _BUYER + "ram:Description"),
    (251, _BUYER + "ram:SpecifiedLegalOrganization/ram:LegalClassificationCode"),
    (252, _BUYER + "ram:SpecifiedLegalOrganization/ram:Name"),
    (254, _BUYER + "ram:SpecifiedLegalOrganization/ram:PostalTradeAddress"),
    (255, _BUYER + "ram:SpecifiedLegalOrganization/ram:AuthorizedLegalRegistration"),
    *_seq(256, _BUYER + "ram:DefinedTradeContact/", *_CONTACT),
    *_seq(
        273,
        _BUYER,
        *_r(
            "URIUniversalCommunication/ram:ChannelCode",
            "URIUniversalCommunication/ram:CompleteNumber",
            "SpecifiedTaxRegistration/ram:AssociatedRegisteredTax",
            "EndPointURIUniversalCommunication",
            "LogoAssociatedSpecifiedBinaryFile",
        ),
    ),
    *_seq(
        278,
        "",
        *_r(
            "SalesAgentTradeParty",
            "BuyerRequisitionerTradeParty",
            "BuyerAssignedAccountantTradeParty",
            "SellerAssignedAccountantTradeParty",
            "BuyerTaxRepresentativeTradeParty",
        ),
    ),
    *_seq(
        283,
        _TAX_REP,
        *_r(
            "GlobalID",
            "RoleCode",
            "Description",
            "SpecifiedLegalOrganization",
            "DefinedTradeContact",
            "URIUniversalCommunication",
            "SpecifiedTaxRegistration/ram:AssociatedRegisteredTax",
            "EndPointURIUniversalCommunication",
            "LogoAssociatedSpecifiedBinaryFile",
        ),
    ),
    *_seq(
        292,
        "",
        *_r(
            "ProductEndUserTradeParty",
            "ApplicableTradeDeliveryTerms",
            "SellerOrderReferencedDocument/ram:LineID",
            "BuyerOrderReferencedDocument/ram:LineID",
            "QuotationReferencedDocument",
            "OrderResponseReferencedDocument",
            "ContractReferencedDocument/ram:LineID",
            "DemandForecastReferencedDocument",
            "SupplyInstructionReferencedDocument",
            "PromotionalDealReferencedDocument",
            "PriceListReferencedDocument",
            "AdditionalReferencedDocument/ram:LineID",
            "RequisitionerReferencedDocument",
            "BuyerAgentTradeParty",
            "PurchaseConditionsReferencedDocument",
            "SpecifiedProcuringProject/ram:Description",
        ),
    ),
    (448, "ram:UltimateCustomerOrderReferencedDocument"),
)

_SHIP_TO = "ram:ShipToTradeParty/"
_DELIVERY_EVENT = "ram:ActualDeliverySupplyChainEvent/"

# ram:ApplicableHeaderTradeDelivery
HEADER_DELIVERY: Rows = (
    (308, "ram:RelatedSupplyChainConsignment"),
    *_seq(
        309,
        _SHIP_TO,
        *_r(
            "RoleCode",
            "Description",
            "SpecifiedLegalOrganization",
            "DefinedTradeContact",
            "URIUniversalCommunication",
            "SpecifiedTaxRegistration",
            "EndPointURIUniversalCommunication",
            "LogoAssociatedSpecifiedBinaryFile",
        ),
    ),
    *_seq(
        317,
        "",
        *_r(
            "UltimateShipToTradeParty",
            "ShipFromTradeParty",
            "ActualDespatchSupplyChainEvent",
            "ActualPickUpSupplyChainEvent",
        ),
    ),
    *_seq(
        321,
        _DELIVERY_EVENT,
        *_r(
            "ID",
            "OccurrenceDateTime/udt:DateTime",
            "TypeCode",
            "Description",
            "DescriptionBinaryObject",
            "UnitQuantity",
            "LatestOccurrenceDateTime",
            "EarliestOccurrenceDateTime",
            "OccurrenceSpecifiedPeriod",
            "OccurrenceLogisticsLocation",
        ),
    ),
    *_seq(
        331,
        "",
        *_r(
            "ActualReceiptSupplyChainEvent",
            "AdditionalReferencedDocument",
            "DespatchAdviceReferencedDocument/ram:LineID",
            "DespatchAdviceReferencedDocument/ram:LineID",
            "DeliveryNoteReferencedDocument",
            "ConsumptionReportReferencedDocument",
            "PreviousDeliverySupplyChainEvent",
            "PackingListReferencedDocument",
        ),
    ),
)

_PAYEE = "ram:PayeeTradeParty/"
_MEANS = "ram:SpecifiedTradeSettlementPaymentMeans/"
_CARD = _MEANS + "ram:ApplicableTradeSettlementFinancialCard/"
_TERMS = "ram:SpecifiedTradePaymentTerms/"

# ram:ApplicableHeaderTradeSettlement
HEADER_SETTLEMENT: Rows = (
    *_seq(
        339,
        "",
        *_r("DuePayableAmount", "CreditorReferenceTypeCode", "CreditorReferenceType", "CreditorReferenceIssuerID"),
    ),
    *_seq(
        344,
        "",
        *_r(
            "PaymentCurrencyCode",
            "InvoiceIssuerReference",
            "InvoiceDateTime",
            "NextInvoiceDateTime",
            "CreditReasonCode",
            "CreditReason",
            "InvoicerTradeParty",
            "InvoiceeTradeParty",
        ),
    ),
    *_seq(
        352,
        _PAYEE,
        *_r(
            "RoleCode",
            "Description",
            "SpecifiedLegalOrganization/ram:LegalClassificationCode",
            "SpecifiedLegalOrganization/ram:Name",
            "SpecifiedLegalOrganization/ram:TradingBusinessName",
            "SpecifiedLegalOrganization/ram:PostalTradeAddress",
            "SpecifiedLegalOrganization/ram:AuthorizedLegalRegistration",
            "DefinedTradeContact",
            "PostalTradeAddress",
            "URIUniversalCommunication",
            "SpecifiedTaxRegistration",
            "EndPointURIUniversalCommunication",
            "LogoAssociatedSpecifiedBinaryFile",
        ),
    ),
    *_seq(
        365,
        "",
        *_r(
            "PayerTradeParty",
            "TaxApplicableTradeCurrencyExchange",
            "InvoiceApplicableTradeCurrencyExchange",
            "PaymentApplicableTradeCurrencyExchange",
        ),
    ),
    *_seq(369, _MEANS, *_r("PaymentChannelCode", "GuaranteeMethodCode", "PaymentMethodCode")),
    (443, _MEANS + "ram:ID"),
    (372, _CARD + "ram:MicrochipIndicator"),
    (373, _CARD + "ram:TypeCode"),
    *_seq(
        375,
        _CARD,
        *_r(
            "ExpiryDate",
            "VerificationNumeric",
            "ValidFromDateTime",
            "CreditLimitAmount",
            "CreditAvailableAmount",
            "InterestRatePercent",
            "Description",
        ),
    ),
    (382, _MEANS + "ram:PayerPartyDebtorFinancialAccount/ram:AccountName"),
    (444, _MEANS + "ram:PayerPartyDebtorFinancialAccount/ram:ProprietaryID"),
    *_seq(
        384,
        _MEANS + "ram:PayerSpecifiedDebtorFinancialInstitution/",
        *_r("ClearingSystemName", "Name", "LocationFinancialInstitutionAddress"),
    ),
    *_seq(
        388,
        "ram:SpecifiedTradeAllowanceCharge/",
        *_r(
            "ID",
            "SequenceNumeric",
            "BasisQuantity",
            "PrepaidIndicator",
            "UnitBasisAmount",
            "TypeCode",
            "ActualTradeCurrencyExchange",
        ),
    ),
    (395, "ram:SubtotalCalculatedTradeTax"),
    (396, "ram:SpecifiedLogisticsServiceCharge"),
    *_seq(
        397,
        _TERMS,
        *_r(
            "ID",
            "FromEventCode",
            "SettlementPeriodMeasure",
            "DueDateDateTime/udt:DateTime",
            "TypeCode",
            "InstructionTypeCode",
        ),
    ),
    *_seq(
        404,
        _TERMS,
        *_r(
            "PartialPaymentPercent",
            "PaymentMeansID",
            "PartialPaymentAmount",
            "ApplicableTradePaymentPenaltyTerms",
            "ApplicableTradePaymentDiscountTerms",
            "PayeeTradeParty",
        ),
    ),
    *_seq(
        421,
        "",
        *_r(
            "SpecifiedFinancialAdjustment",
            "InvoiceReferencedDocument/ram:LineID",
            "ProFormaInvoiceReferencedDocument",
            "LetterOfCreditReferencedDocument",
            "FactoringAgreementReferencedDocument",
            "FactoringListReferencedDocument",
            "PayableSpecifiedTradeAccountingAccount",
        ),
    ),
    *_seq(428, "ram:ReceivableSpecifiedTradeAccountingAccount/", *_ACCOUNTING_ACCOUNT),
    *_seq(
        433,
        "",
        *_r(
            "PurchaseSpecifiedTradeAccountingAccount",
            "SalesSpecifiedTradeAccountingAccount",
            "SpecifiedTradeSettlementFinancialCard",
            "SpecifiedAdvancePayment",
            "UltimatePayeeTradeParty",
        ),
    ),
)

# ram:SpecifiedTradeSettlementHeaderMonetarySummation
HEADER_SUMMATION: Rows = tuple(
    _seq(
        411,
        "",
        *_r(
            "InformationAmount",
            "TotalDiscountAmount",
            "TotalAllowanceChargeAmount",
            "RetailValueExcludingTaxInformationAmount",
            "TotalDepositFeeInformationAmount",
            "ProductValueExcludingTobaccoTaxInformationAmount",
            "TotalRetailValueInformationAmount",
            "GrossLineTotalAmount",
            "NetLineTotalAmount",
            "NetIncludingTaxesLineTotalAmount",
        ),
    )
)

# rsm:CrossIndustryInvoice
INVOICE: Rows = ((438, "ram:ValuationBreakdownStatement"),)

# Any *DocumentContextParameter; officially numbered CII-SR-04 and CII-SR-05 (two digits).
PARAMETER: Rows = ((4, "ram:Value"), (5, "ram:SpecifiedDocumentVersion"))

# CII-DT-068 to 081 (fatal): parts of a ram:BillingSpecifiedPeriod that shall not be used.
BILLING_PERIOD: Rows = tuple(
    _seq(
        68,
        "",
        *_r(
            "StartDateTime/udt:DateTime",
            "DurationMeasure",
            "InclusiveIndicator",
            "Description",
            "EndDateTime/udt:DateTime",
            "CompleteDateTime",
            "OpenIndicator",
            "SeasonCode",
            "ID",
            "Name",
            "SequenceNumeric",
            "StartDateFlexibilityCode",
            "ContinuousIndicator",
            "PurposeCode",
        ),
    )
)

# CII-DT-082 to 096 (fatal; there is no 085): parts of a ram:PostalTradeAddress that shall not be used.
POSTAL_ADDRESS: Rows = (
    *_seq(82, "", *_r("ID", "PostOfficeBox", "BuildingName")),
    *_seq(
        86,
        "",
        *_r(
            "LineFour",
            "LineFive",
            "StreetName",
            "CitySubDivisionName",
            "CountryName",
            "CountrySubDivisionID",
            "AttentionOf",
            "CareOf",
            "BuildingNumber",
            "DepartmentName",
            "AdditionalStreetName",
        ),
    ),
)
