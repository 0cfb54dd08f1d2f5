"""UBL-CR-*: the UBL elements and attributes an EN 16931 invoice should not carry (CEN 1.3.15).

Every rule is evaluated on the document element (``/ubl:Invoice | /cn:CreditNote``), so a
rule on a line element fires once per document, however many lines carry the element. Each
row is (rule id, flag, path that must be absent); paths use the grammar of ``_absence``.
Numbers run consecutively within a group; the official set has gaps (120, 423, 536, 631:
1.3.15 withdrew UBL-CR-631, which repeated 628). Paths are kept exactly as the official rules
name them, including the two that can never match a schema-valid invoice (629 and 630 name
``cbc:`` elements that UBL defines in ``cac:``).
"""

from __future__ import annotations

from validators.rules._engine import Flag

__all__ = ["RESTRICTIONS"]

# The only two restrictions flagged fatal (an invoiced object reference with an attachment or a
# description); every other one is a warning.
_FATAL = frozenset({666, 673})

_SUPPLIER = "cac:AccountingSupplierParty/cac:Party/"
_CUSTOMER = "cac:AccountingCustomerParty/cac:Party/"
_PAYEE = "cac:PayeeParty/"
_TAX_REP = "cac:TaxRepresentativeParty/"
_DELIVERY = "cac:Delivery/"
_PAYMENT = "cac:PaymentMeans/"
_LINE = "(cac:InvoiceLine|cac:CreditNoteLine)/"

# Children of a document reference that EN 16931 leaves out; the billing reference keeps IssueDate.
_REFERENCE = (
    "cbc:CopyIndicator",
    "cbc:UUID",
    "cbc:IssueDate",
    "cbc:IssueTime",
    "cbc:DocumentTypeCode",
    "cbc:DocumentType",
    "cbc:XPath",
    "cbc:LanguageID",
    "cbc:LocaleCode",
    "cbc:VersionID",
    "cbc:DocumentStatusCode",
    "cbc:DocumentDescription",
    "cac:Attachment",
    "cac:ValidityPeriod",
    "cac:IssuerParty",
    "cac:ResultOfVerification",
)
_REFERENCE_NO_DATE = tuple(r for r in _REFERENCE if r != "cbc:IssueDate")
_PARTY_EXTRAS = (
    "cbc:MarkCareIndicator",
    "cbc:MarkAttentionIndicator",
    "cbc:WebsiteURI",
    "cbc:LogoReferenceID",
)
_ADDRESS = (
    "cbc:ID",
    "cbc:AddressTypeCode",
    "cbc:AddressFormatCode",
    "cbc:Postbox",
    "cbc:Floor",
    "cbc:Room",
    "cbc:BlockName",
    "cbc:BuildingName",
    "cbc:BuildingNumber",
    "cbc:InhouseMail",
    "cbc:Department",
    "cbc:MarkAttention",
    "cbc:MarkCare",
    "cbc:PlotIdentification",
    "cbc:CitySubdivisionName",
    "cbc:CountrySubentityCode",
    "cbc:Region",
    "cbc:District",
    "cbc:TimezoneOffset",
    "cac:Country/cbc:Name",
    "cac:LocationCoordinate",
)
_PARTY_TAX_SCHEME = (
    "cbc:RegistrationName",
    "cbc:TaxLevelCode",
    "cbc:ExemptionReasonCode",
    "cbc:ExemptionReason",
    "cac:RegistrationAddress",
    "cac:TaxScheme/cbc:Name",
    "cac:TaxScheme/cbc:TaxTypeCode",
    "cac:TaxScheme/cbc:CurrencyCode",
    "cac:TaxScheme/cac:JurisdictionRegionAddress",
)
_PARTY_TAIL = (
    "cac:Person",
    "cac:AgentParty",
    "cac:ServiceProviderParty",
    "cac:PowerOfAttorney",
    "cac:FinancialAccount",
)
_CONTACT = (
    "cac:Contact/cbc:ID",
    "cac:Contact/cbc:Telefax",
    "cac:Contact/cbc:Note",
    "cac:Contact/cac:OtherCommunication",
)
_TAX_SCHEME = (
    "cac:TaxScheme/cbc:Name",
    "cac:TaxScheme/cbc:TaxTypeCode",
    "cac:TaxScheme/cbc:CurrencyCode",
    "cac:TaxScheme/cac:JurisdictionRegionAddress",
)
_ITEM_IDENTIFICATION = (
    "cbc:ExtendedID",
    "cbc:BarcodeSymbologyID",
    "cac:PhysicalAttribute",
    "cac:MeasurementDimension",
    "cac:IssuerParty",
)
_ALLOWANCE_CHARGE = (
    "cbc:ID",
    "cbc:PrepaidIndicator",
    "cbc:SequenceNumeric",
    "cbc:AccountingCostCode",
    "cbc:AccountingCost",
    "cbc:PerUnitAmount",
)


def _group(first: int, base: str, *leaves: str) -> list[tuple[int, str]]:
    return [(first + i, base + leaf) for i, leaf in enumerate(leaves)]


def _legal_entity(base: str) -> tuple[str, ...]:
    return tuple(
        f"{base}cac:PartyLegalEntity/{leaf}"
        for leaf in (
            "cbc:RegistrationDate",
            "cbc:RegistrationExpirationDate",
            "cbc:CompanyLegalFormCode",
        )
    )


_LEGAL_ENTITY_TAIL = (
    "cbc:SoleProprietorshipIndicator",
    "cbc:CompanyLiquidationStatusCode",
    "cbc:CorporateStockAmount",
    "cbc:FullyPaidSharesIndicator",
    "cac:RegistrationAddress",
    "cac:CorporateRegistrationScheme",
    "cac:HeadOfficeParty",
    "cac:ShareholderParty",
)


def _rows() -> list[tuple[int, str]]:
    rows: list[tuple[int, str]] = [
        (1, "ext:UBLExtensions"),
        # "no UBLVersionID, or one that is 2.1"
        (2, "cbc:UBLVersionID[not(../cbc:UBLVersionID = '2.1')]"),
    ]
    rows += _group(
        3,
        "",
        "cbc:ProfileExecutionID",
        "cbc:CopyIndicator",
        "cbc:UUID",
        "cbc:IssueTime",
        "cbc:PricingCurrencyCode",
        "cbc:PaymentCurrencyCode",
        "cbc:PaymentAlternativeCurrencyCode",
        "cbc:AccountingCostCode",
        "cbc:LineCountNumeric",
    )
    rows += _group(12, "cac:InvoicePeriod/", "cbc:StartTime", "cbc:EndTime", "cbc:DurationMeasure", "cbc:Description")
    rows += _group(
        16,
        "cac:OrderReference/",
        "cbc:CopyIndicator",
        "cbc:UUID",
        "cbc:IssueDate",
        "cbc:IssueTime",
        "cbc:CustomerReference",
        "cbc:OrderTypeCode",
        "cac:DocumentReference",
    )
    rows += _group(23, "cac:BillingReference/cac:InvoiceDocumentReference/", *_REFERENCE_NO_DATE)
    rows += _group(
        38,
        "cac:BillingReference/",
        "cac:SelfBilledInvoiceDocumentReference",
        "cac:CreditNoteDocumentReference",
        "cac:SelfBilledCreditNoteDocumentReference",
        "cac:DebitNoteDocumentReference",
        "cac:ReminderDocumentReference",
        "cac:AdditionalDocumentReference",
        "cac:BillingReferenceLine",
    )
    rows += _group(45, "cac:DespatchDocumentReference/", *_REFERENCE)
    rows += _group(61, "cac:ReceiptDocumentReference/", *_REFERENCE)
    rows += [(77, "cac:StatementDocumentReference")]
    rows += _group(78, "cac:OriginatorDocumentReference/", *_REFERENCE)
    rows += _group(94, "cac:ContractDocumentReference/", *_REFERENCE)
    rows += _group(
        110,
        "cac:AdditionalDocumentReference/",
        *(r for r in _REFERENCE[:10] if r != "cbc:DocumentTypeCode"),
        "cbc:DocumentStatusCode",
    )
    rows += _group(
        121,
        "cac:AdditionalDocumentReference/cac:Attachment/cac:ExternalReference/",
        "cbc:DocumentHash",
        "cbc:HashAlgorithmMethod",
        "cbc:ExpiryDate",
        "cbc:ExpiryTime",
        "cbc:MimeCode",
        "cbc:FormatCode",
        "cbc:EncodingCode",
        "cbc:CharacterSetCode",
        "cbc:FileName",
        "cbc:Description",
    )
    rows += _group(
        131, "cac:AdditionalDocumentReference/", "cac:ValidityPeriod", "cac:IssuerParty", "cac:ResultOfVerification"
    )
    rows += _group(134, "cac:ProjectReference/", "cbc:UUID", "cbc:IssueDate", "cac:WorkPhaseReference")
    rows += [(137, "cac:Signature")]
    # Seller (BG-4) and buyer (BG-7).
    rows += _group(
        138,
        "cac:AccountingSupplierParty/",
        "cbc:CustomerAssignedAccountID",
        "cbc:AdditionalAccountID",
        "cbc:DataSendingCapability",
    )
    rows += _group(141, _SUPPLIER, *_PARTY_EXTRAS, "cbc:IndustryClassificationCode", "cac:Language")
    rows += _group(147, _SUPPLIER + "cac:PostalAddress/", *_ADDRESS)
    rows += [(168, _SUPPLIER + "cac:PhysicalLocation")]
    rows += _group(169, _SUPPLIER + "cac:PartyTaxScheme/", *_PARTY_TAX_SCHEME)
    rows += _group(178, "", *_legal_entity(_SUPPLIER))
    rows += _group(181, _SUPPLIER + "cac:PartyLegalEntity/", *_LEGAL_ENTITY_TAIL)
    rows += _group(189, _SUPPLIER, *_CONTACT, *_PARTY_TAIL)
    rows += _group(
        198, "cac:AccountingSupplierParty/", "cac:DespatchContact", "cac:AccountingContact", "cac:SellerContact"
    )
    rows += _group(
        201,
        "cac:AccountingCustomerParty/",
        "cbc:CustomerAssignedAccountID",
        "cbc:SupplierAssignedAccountID",
        "cbc:AdditionalAccountID",
    )
    rows += _group(204, _CUSTOMER, *_PARTY_EXTRAS, "cbc:IndustryClassificationCode", "cac:Language")
    rows += _group(210, _CUSTOMER + "cac:PostalAddress/", *_ADDRESS)
    rows += [(231, _CUSTOMER + "cac:PhysicalLocation")]
    rows += _group(232, _CUSTOMER + "cac:PartyTaxScheme/", *_PARTY_TAX_SCHEME)
    rows += _group(241, "", *_legal_entity(_CUSTOMER))
    # The buyer, unlike the seller, should not give a legal form (BT-33 is a seller term).
    rows += _group(244, _CUSTOMER + "cac:PartyLegalEntity/", "cbc:CompanyLegalForm", *_LEGAL_ENTITY_TAIL)
    rows += _group(253, _CUSTOMER, *_CONTACT, *_PARTY_TAIL)
    rows += _group(
        262, "cac:AccountingCustomerParty/", "cac:DeliveryContact", "cac:AccountingContact", "cac:BuyerContact"
    )
    # Payee (BG-10).
    rows += _group(
        265,
        _PAYEE,
        *_PARTY_EXTRAS,
        "cbc:EndpointID",
        "cbc:IndustryClassificationCode",
        "cac:Language",
        "cac:PostalAddress",
        "cac:PhysicalLocation",
        "cac:PartyTaxScheme",
        "cac:PartyLegalEntity/cbc:RegistrationName",
    )
    rows += _group(276, "", *_legal_entity(_PAYEE))
    rows += _group(279, _PAYEE + "cac:PartyLegalEntity/", "cbc:CompanyLegalForm", *_LEGAL_ENTITY_TAIL)
    rows += _group(288, _PAYEE, "cac:Contact", *_PARTY_TAIL)
    rows += [(294, "cac:BuyerCustomerParty"), (295, "cac:SellerSupplierParty")]
    # Seller tax representative (BG-11).
    rows += _group(
        296,
        _TAX_REP,
        *_PARTY_EXTRAS,
        "cbc:EndpointID",
        "cbc:IndustryClassificationCode",
        "cac:PartyIdentification",
        "cac:Language",
    )
    rows += _group(304, _TAX_REP + "cac:PostalAddress/", *_ADDRESS)
    rows += [(325, _TAX_REP + "cac:PhysicalLocation")]
    rows += _group(326, _TAX_REP + "cac:PartyTaxScheme/", *_PARTY_TAX_SCHEME)
    rows += _group(335, _TAX_REP, "cac:PartyLegalEntity", "cac:Contact", *_PARTY_TAIL)
    # Delivery (BG-13).
    rows += _group(
        342,
        _DELIVERY,
        "cbc:ID",
        "cbc:Quantity",
        "cbc:MinimumQuantity",
        "cbc:MaximumQuantity",
        "cbc:ActualDeliveryTime",
        "cbc:LatestDeliveryDate",
        "cbc:LatestDeliveryTime",
        "cbc:ReleaseID",
        "cbc:TrackingID",
    )
    rows += _group(
        351,
        _DELIVERY + "cac:DeliveryLocation/",
        "cbc:Description",
        "cbc:Conditions",
        "cbc:CountrySubentity",
        "cbc:CountrySubentityCode",
        "cbc:LocationTypeCode",
        "cbc:InformationURI",
        "cbc:Name",
        "cac:ValidityPeriod",
    )
    rows += _group(359, _DELIVERY + "cac:DeliveryLocation/cac:Address/", *_ADDRESS)
    rows += _group(380, _DELIVERY + "cac:DeliveryLocation/", "cac:SubsidiaryLocation", "cac:LocationCoordinate")
    rows += _group(
        382,
        _DELIVERY,
        "cac:AlternativeDeliveryLocation",
        "cac:RequestedDeliveryPeriod",
        "cac:EstimatedDeliveryPeriod",
        "cac:CarrierParty",
    )
    rows += _group(
        386,
        _DELIVERY + "cac:DeliveryParty/",
        *_PARTY_EXTRAS,
        "cbc:EndpointID",
        "cbc:IndustryClassificationCode",
        "cac:PartyIdentification",
        "cac:Language",
        "cac:PostalAddress",
        "cac:PhysicalLocation",
        "cac:PartyTaxScheme",
        "cac:PartyLegalEntity",
        "cac:Contact",
        *_PARTY_TAIL,
    )
    rows += _group(
        404,
        _DELIVERY,
        "cac:NotifyParty",
        "cac:Despatch",
        "cac:DeliveryTerms",
        "cac:MinimumDeliveryUnit",
        "cac:MaximumDeliveryUnit",
        "cac:Shipment",
    )
    rows += [(410, "cac:DeliveryTerms")]
    # Payment instructions (BG-16); a credit note may give a due date there.
    rows += [
        (411, _PAYMENT + "cbc:ID"),
        (412, "cac:PaymentMeans[not(/cn:CreditNote)]/cbc:PaymentDueDate"),
        (413, _PAYMENT + "cbc:PaymentChannelCode"),
        (414, _PAYMENT + "cbc:InstructionID"),
    ]
    rows += _group(
        415,
        _PAYMENT + "cac:CardAccount/",
        "cbc:CardTypeCode",
        "cbc:ValidityStartDate",
        "cbc:ExpiryDate",
        "cbc:IssuerID",
        "cbc:IssueNumberID",
        "cbc:CV2ID",
        "cbc:CardChipCode",
        "cbc:ChipApplicationID",
    )
    rows += _group(
        424,
        _PAYMENT + "cac:PayeeFinancialAccount/",
        "cbc:AliasName",
        "cbc:AccountTypeCode",
        "cbc:AccountFormatCode",
        "cbc:CurrencyCode",
        "cbc:PaymentNote",
        "cac:FinancialInstitutionBranch/cbc:Name",
        "cac:FinancialInstitutionBranch/cac:FinancialInstitution/cbc:Name",
        "cac:FinancialInstitutionBranch/cac:FinancialInstitution/cac:Address",
        "cac:FinancialInstitutionBranch/cac:Address",
        "cac:Country",
    )
    rows += [(434, _PAYMENT + "cac:CreditAccount")]
    rows += _group(
        435,
        _PAYMENT + "cac:PaymentMandate/",
        "cbc:MandateTypeCode",
        "cbc:MaximumPaymentInstructionsNumeric",
        "cbc:MaximumPaidAmount",
        "cbc:SignatureID",
        "cac:PayerParty",
    )
    rows += _group(
        440,
        _PAYMENT + "cac:PaymentMandate/cac:PayerFinancialAccount/",
        "cbc:Name",
        "cbc:AliasName",
        "cbc:AccountTypeCode",
        "cbc:AccountFormatCode",
        "cbc:CurrencyCode",
        "cbc:PaymentNote",
        "cac:FinancialInstitutionBranch",
        "cac:Country",
    )
    rows += _group(
        448, _PAYMENT + "cac:PaymentMandate/", "cac:ValidityPeriod", "cac:PaymentReversalPeriod", "cac:Clause"
    )
    rows += [(451, _PAYMENT + "cac:TradeFinancing")]
    rows += _group(
        452,
        "cac:PaymentTerms/",
        "cbc:ID",
        "cbc:PaymentMeansID",
        "cbc:PrepaidPaymentReferenceID",
        "cbc:ReferenceEventCode",
        "cbc:SettlementDiscountPercent",
        "cbc:PenaltySurchargePercent",
        "cbc:PaymentPercent",
        "cbc:Amount",
        "cbc:SettlementDiscountAmount",
        "cbc:PenaltyAmount",
        "cbc:PaymentTermsDetailsURI",
        "cbc:PaymentDueDate",
        "cbc:InstallmentDueDate",
        "cbc:InvoicingPartyReference",
        "cac:SettlementPeriod",
        "cac:PenaltyPeriod",
        "cac:ExchangeRate",
        "cac:ValidityPeriod",
    )
    rows += [(470, "cac:PrepaidPayment")]
    # Document level allowances and charges (BG-20, BG-21).
    rows += _group(471, "cac:AllowanceCharge/", *_ALLOWANCE_CHARGE)
    rows += _group(
        477,
        "cac:AllowanceCharge/cac:TaxCategory/",
        "cbc:Name",
        "cbc:BaseUnitMeasure",
        "cbc:PerUnitAmount",
        "cbc:TaxExemptionReasonCode",
        "cbc:TaxExemptionReason",
        "cbc:TierRange",
        "cbc:TierRatePercent",
        *_TAX_SCHEME,
    )
    rows += _group(488, "cac:AllowanceCharge/", "cac:TaxTotal", "cac:PaymentMeans")
    rows += _group(
        490,
        "",
        "cac:TaxExchangeRate",
        "cac:PricingExchangeRate",
        "cac:PaymentExchangeRate",
        "cac:PaymentAlternativeExchangeRate",
    )
    # VAT totals and breakdown (BG-23).
    rows += _group(494, "cac:TaxTotal/", "cbc:RoundingAmount", "cbc:TaxEvidenceIndicator", "cbc:TaxIncludedIndicator")
    rows += _group(
        497,
        "cac:TaxTotal/cac:TaxSubtotal/",
        "cbc:CalculationSequenceNumeric",
        "cbc:TransactionCurrencyTaxAmount",
        "cbc:Percent",
        "cbc:BaseUnitMeasure",
        "cbc:PerUnitAmount",
        "cbc:TierRange",
        "cbc:TierRatePercent",
    )
    rows += _group(
        504,
        "cac:TaxTotal/cac:TaxSubtotal/cac:TaxCategory/",
        "cbc:Name",
        "cbc:BaseUnitMeasure",
        "cbc:PerUnitAmount",
        "cbc:TierRange",
        "cbc:TierRatePercent",
        *_TAX_SCHEME,
    )
    rows += [(513, "cac:WithholdingTaxTotal"), (514, "cac:LegalMonetaryTotal/cbc:PayableAlternativeAmount")]
    # Invoice lines (BG-25), checked from the document element.
    rows += _group(
        515,
        _LINE,
        "cbc:UUID",
        "cbc:TaxPointDate",
        "cbc:AccountingCostCode",
        "cbc:PaymentPurposeCode",
        "cbc:FreeOfChargeIndicator",
    )
    rows += _group(
        520,
        _LINE + "cac:InvoicePeriod/",
        "cbc:StartTime",
        "cbc:EndTime",
        "cbc:DurationMeasure",
        "cbc:DescriptionCode",
        "cbc:Description",
    )
    rows += _group(
        525,
        _LINE + "cac:OrderLineReference/",
        "cbc:SalesOrderLineID",
        "cbc:UUID",
        "cbc:LineStatusCode",
        "cac:OrderReference",
    )
    rows += _group(529, _LINE, "cac:DespatchLineReference", "cac:ReceiptLineReference", "cac:BillingReference")
    rows += _group(532, _LINE + "cac:DocumentReference/", *_REFERENCE[:4])
    rows += _group(537, _LINE + "cac:DocumentReference/", *_REFERENCE[5:])
    rows += _group(548, _LINE, "cac:PricingReference", "cac:OriginatorParty", "cac:Delivery", "cac:PaymentTerms")
    rows += _group(
        552,
        _LINE + "cac:AllowanceCharge/",
        *_ALLOWANCE_CHARGE,
        "cac:TaxCategory",
        "cac:TaxTotal",
        "cac:PaymentMeans",
    )
    rows += _group(561, _LINE, "cac:TaxTotal", "cac:WithholdingTaxTotal")
    rows += _group(
        563,
        _LINE + "cac:Item/",
        "cbc:PackQuantity",
        "cbc:PackSizeNumeric",
        "cbc:CatalogueIndicator",
        "cbc:HazardousRiskIndicator",
        "cbc:AdditionalInformation",
        "cbc:Keyword",
        "cbc:BrandName",
        "cbc:ModelName",
    )
    rows += _group(571, _LINE + "cac:Item/cac:BuyersItemIdentification/", *_ITEM_IDENTIFICATION)
    rows += _group(576, _LINE + "cac:Item/cac:SellersItemIdentification/", *_ITEM_IDENTIFICATION)
    rows += [(581, _LINE + "cac:Item/cac:ManufacturersItemIdentification")]
    rows += _group(582, _LINE + "cac:Item/cac:StandardItemIdentification/", *_ITEM_IDENTIFICATION)
    rows += _group(
        587,
        _LINE + "cac:Item/",
        "cac:CatalogueItemIdentification",
        "cac:AdditionalItemIdentification",
        "cac:CatalogueDocumentReference",
        "cac:ItemSpecificationDocumentReference",
        "cac:OriginCountry/cbc:Name",
        "cac:CommodityClassification/cbc:NatureCode",
        "cac:CommodityClassification/cbc:CargoTypeCode",
        "cac:CommodityClassification/cbc:CommodityCode",
        "cac:TransactionConditions",
        "cac:HazardousItem",
    )
    rows += _group(
        597,
        _LINE + "cac:Item/cac:ClassifiedTaxCategory/",
        "cbc:Name",
        "cbc:BaseUnitMeasure",
        "cbc:PerUnitAmount",
        "cbc:TaxExemptionReasonCode",
        "cbc:TaxExemptionReason",
        "cbc:TierRange",
        "cbc:TierRatePercent",
        *_TAX_SCHEME,
    )
    rows += _group(
        608,
        _LINE + "cac:Item/cac:AdditionalItemProperty/",
        "cbc:ID",
        "cbc:NameCode",
        "cbc:TestMethod",
        "cbc:ValueQuantity",
        "cbc:ValueQualifier",
        "cbc:ImportanceCode",
        "cbc:ListValue",
        "cac:UsabilityPeriod",
        "cac:ItemPropertyGroup",
        "cac:RangeDimension",
        "cac:ItemPropertyRange",
    )
    rows += _group(
        619,
        _LINE + "cac:Item/",
        "cac:ManufacturerParty",
        "cac:InformationContentProviderParty",
        "cac:OriginAddress",
        "cac:ItemInstance",
        "cac:Certificate",
        "cac:Dimension",
    )
    rows += _group(
        625,
        _LINE + "cac:Price/",
        "cbc:PriceChangeReason",
        "cbc:PriceTypeCode",
        "cbc:PriceType",
        "cbc:OrderableUnitFactorRate",
        "cbc:ValidityPeriod",
        "cbc:PriceList",
    )
    rows += _group(
        632,
        _LINE + "cac:Price/cac:AllowanceCharge/",
        "cbc:ID",
        "cbc:AllowanceChargeReasonCode",
        "cbc:AllowanceChargeReason",
        "cbc:MultiplierFactorNumeric",
        *_ALLOWANCE_CHARGE[1:],
        "cac:TaxCategory",
        "cac:TaxTotal",
        "cac:PaymentMeans",
    )
    rows += [(644, _LINE + "cac:Price/cac:PricingExchangeRate")]
    rows += _group(645, _LINE, "cac:DeliveryTerms", "cac:SubInvoiceLine", "cac:ItemPriceExtension")
    # Scheme and list identifier attributes.
    rows += _group(
        648,
        "",
        "cbc:CustomizationID/@schemeID",
        "cbc:ProfileID/@schemeID",
        "cbc:ID/@schemeID",
        "cbc:SalesOrderID/@schemeID",
        "//cac:PartyTaxScheme/cbc:CompanyID/@schemeID",
        _PAYMENT + "cbc:PaymentID/@schemeID",
        _PAYMENT + "cac:PayeeFinancialAccount/cbc:ID/@schemeID",
        _PAYMENT + "cac:PayeeFinancialAccount/cac:FinancialInstitutionBranch/cbc:ID/@schemeID",
        "cbc:InvoiceTypeCode/@listID",
        "cbc:DocumentCurrencyCode/@listID",
        "cbc:TaxCurrencyCode/@listID",
        "cac:AdditionalDocumentReference/cbc:DocumentTypeCode/@listID",
        "//cac:Country/cbc:IdentificationCode/@listID",
        _PAYMENT + "cbc:PaymentMeansCode/@listID",
        "//cbc:AllowanceChargeReasonCode/@listID",
        "//@unitCodeListID",
        "//cac:FinancialInstitution",
        "//cac:AdditionalDocumentReference[cbc:DocumentTypeCode != '130' or not(cbc:DocumentTypeCode)]"
        "/cbc:ID/@schemeID",
        "//cac:AdditionalDocumentReference[cbc:DocumentTypeCode = '130']/cac:Attachment",
        "//cac:BuyersItemIdentification/cbc:ID/@schemeID",
        "//cac:SellersItemIdentification/cbc:ID/@schemeID",
        "//cac:Price/cac:AllowanceCharge/cbc:AllowanceChargeReasonCode",
        "//cac:Price/cac:AllowanceCharge/cbc:AllowanceChargeReason",
        "//cac:Price/cac:AllowanceCharge/cbc:MultiplierFactorNumeric",
        "cbc:CreditNoteTypeCode/@listID",
        "//cac:AdditionalDocumentReference[cbc:DocumentTypeCode = '130']/cbc:DocumentDescription",
        "//cbc:PrimaryAccountNumber/@schemeID",
        "//cac:CardAccount/cbc:NetworkID/@schemeID",
        "//cac:PaymentMandate/cbc:ID/@schemeID",
        "//cac:PaymentMandate/cac:PayerFinancialAccount/cbc:ID/@schemeID",
        "//cac:TaxCategory/cbc:ID/@schemeID",
        "//cac:ClassifiedTaxCategory/cbc:ID/@schemeID",
        "//cac:PaymentMeans/cac:PayerFinancialAccount",
        _PAYMENT + "cbc:InstructionNote",
        _DELIVERY + "cac:DeliveryAddress",
    )
    return rows


# (rule id, flag, path that must be absent), in official order.
RESTRICTIONS: tuple[tuple[str, Flag, str], ...] = tuple(
    (f"UBL-CR-{n:03d}", Flag.FATAL if n in _FATAL else Flag.WARNING, path) for n, path in _rows()
)
